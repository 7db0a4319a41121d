"""Who counts as a maintainer on a repository: association, explicit list, or permission."""
from __future__ import annotations

from bot.core.settings import MaintainerSettings
from bot.github import pulls as github
from bot.service.context import Context

_PERMISSION_ORDER = ("none", "read", "triage", "write", "maintain", "admin")


def _rank(permission: str) -> int:
    return _PERMISSION_ORDER.index(permission) if permission in _PERMISSION_ORDER else 0


async def is_maintainer(ctx: Context, rules: MaintainerSettings, login: str, association: str) -> bool:
    """Cheap checks first; the permission lookup (one API call) only when configured and needed."""
    if login.lower() in {name.lower() for name in rules.logins}:
        return True
    if association.upper() in rules.associations:
        return True
    if rules.permission is None or ctx.gh is None or ctx.repo is None:
        return False
    permission = await github.permission_of(ctx.gh, ctx.repo, login)
    return _rank(permission) >= _rank(rules.permission)
