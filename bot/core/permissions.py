"""GitHub's repository permission levels, lowest first, and how two of them compare (pure)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The order GitHub grants them in; "none" is what the collaborator-permission endpoint reports
# for someone without access.
PERMISSION_ORDER: tuple[str, ...] = ("none", "read", "triage", "write", "maintain", "admin")
# What a repository's settings may require (`maintainers.permission`): requiring "none" means nothing.
REQUIRABLE_PERMISSIONS: tuple[str, ...] = PERMISSION_ORDER[1:]


def permission_rank(permission: str) -> int:
    """Position in PERMISSION_ORDER; a level GitHub may add later counts as "none" until we know it."""
    return PERMISSION_ORDER.index(permission) if permission in PERMISSION_ORDER else 0


def permission_at_least(granted: str, required: str) -> bool:
    return permission_rank(granted) >= permission_rank(required)


def permission_from_response(answer: Mapping[str, Any]) -> str:
    """The level in GitHub's collaborator-permission answer. `role_name` names the real role
    (maintain, triage); the legacy `permission` folds those into write and read, and is the
    fallback for a custom role's name, which this order does not know."""
    role = str(answer.get("role_name") or "")
    return role if role in PERMISSION_ORDER else str(answer.get("permission") or "none")
