"""GitHub's permission order, and reading a level from its collaborator-permission answer."""
from __future__ import annotations

from itertools import pairwise

import pytest

from bot.core.permissions import (
    PERMISSION_ORDER,
    REQUIRABLE_PERMISSIONS,
    permission_at_least,
    permission_from_response,
)
from bot.core.settings import SettingsError, parse_settings


def test_each_level_includes_the_ones_below_it() -> None:
    for lower, higher in pairwise(PERMISSION_ORDER):
        assert permission_at_least(higher, lower) and not permission_at_least(lower, higher)
    assert permission_at_least("admin", "admin")


def test_a_level_this_order_does_not_know_counts_as_none() -> None:
    assert not permission_at_least("auditor", "read")
    assert permission_at_least("auditor", "none")


def test_the_real_role_wins_over_the_legacy_field_and_a_custom_role_falls_back_to_it() -> None:
    assert permission_from_response({"permission": "write", "role_name": "maintain"}) == "maintain"
    assert permission_from_response({"permission": "read", "role_name": "triage"}) == "triage"
    assert permission_from_response({"permission": "write", "role_name": "security-reviewer"}) == "write"
    assert permission_from_response({}) == "none"


def test_the_settings_accept_exactly_the_requirable_levels() -> None:
    for level in REQUIRABLE_PERMISSIONS:
        assert parse_settings({"maintainers": {"permission": level}}).maintainers.permission == level
    with pytest.raises(SettingsError, match=r"maintainers\.permission"):
        parse_settings({"maintainers": {"permission": "none"}})
