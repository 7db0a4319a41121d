"""Who counts as a maintainer on a repository: association, explicit list, or permission.

What GitHub says about a person is kept for a few minutes per installation, so a comment that
names many people, or the same people on many PRs, costs few API calls (see also
`LOGINS_PER_COMMENT`, the cap on people one comment makes the bot look up).
"""
from __future__ import annotations

import time

from bot.core.settings import MaintainerSettings
from bot.github import pulls as github
from bot.service.runtime.handler_context import Context

_PERMISSION_ORDER = ("none", "read", "triage", "write", "maintain", "admin")
UNKNOWN = ""  # no author_association at hand (reactions, people @-mentioned)
CACHE_SECONDS = 600.0  # a new member counts within ten minutes
_CACHE_SIZE = 10_000
# (service, installation, repository, login, association given, rules) -> (expires at, maintainer?)
_answers: dict[tuple[str, int | None, str, str, str, MaintainerSettings], tuple[float, bool]] = {}


def _rank(permission: str) -> int:
    return _PERMISSION_ORDER.index(permission) if permission in _PERMISSION_ORDER else 0


async def is_maintainer(ctx: Context, rules: MaintainerSettings, login: str, association: str) -> bool:
    """Cheap checks first; API calls only when configured and needed.

    With no association at hand (UNKNOWN) it is worked out the way GitHub would report it.
    """
    if login.lower() in {name.lower() for name in rules.logins}:
        return True
    if association != UNKNOWN and association.upper() in rules.associations:
        return True
    if ctx.gh is None or ctx.repo is None:
        return False
    if association != UNKNOWN and rules.permission is None:
        return False  # nothing more to ask GitHub
    service = f"{ctx.settings.api_url} {ctx.state_dir}"  # two services in one process never share answers
    key = (service, ctx.installation_id, ctx.repo.lower(), login.lower(), association.upper(), rules)
    now = time.monotonic()
    cached = _answers.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    answer = await _ask_github(ctx, rules, login, association)
    if len(_answers) >= _CACHE_SIZE:
        _answers.clear()  # simple and bounded: the next lookups refill it
    _answers[key] = (now + CACHE_SECONDS, answer)
    return answer


async def _ask_github(ctx: Context, rules: MaintainerSettings, login: str, association: str) -> bool:
    if association == UNKNOWN:
        association = await association_of(ctx, login, rules)
    if association.upper() in rules.associations:
        return True
    if rules.permission is None or ctx.gh is None or ctx.repo is None:
        return False
    permission = await github.permission_of(ctx.gh, ctx.repo, login)
    return _rank(permission) >= _rank(rules.permission)


async def association_of(ctx: Context, login: str, rules: MaintainerSettings) -> str:
    """OWNER, MEMBER or COLLABORATOR as GitHub's author_association would say, else NONE;
    asking only about the associations the rules accept."""
    if ctx.gh is None or ctx.repo is None:
        return "NONE"
    owner = ctx.repo.split("/")[0]
    if login.lower() == owner.lower():
        return "OWNER"
    if "MEMBER" in rules.associations and await github.is_org_member(ctx.gh, owner, login):
        return "MEMBER"
    if "COLLABORATOR" in rules.associations and _rank(await github.permission_of(ctx.gh, ctx.repo, login)) >= _rank("write"):
        return "COLLABORATOR"
    return "NONE"
