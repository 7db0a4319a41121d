"""Context.repo_settings reads `.github/threat-model-bot.yml` from the default branch (local GitHub)."""
from __future__ import annotations

import pytest

from bot.core.settings import RepoSettings
from bot.store.repo_config import RepoConfigError

# The world tests/conftest.py's `hub` fixture seeds (see tests/service/conftest.py).
REPO, MAINTAINER = "apache/cloudstack", "maintainer"


async def test_no_settings_file_means_defaults(context_for) -> None:
    assert await context_for().repo_settings() == RepoSettings()


async def test_the_settings_file_on_the_default_branch_is_used(hub, context_for) -> None:
    hub.push(REPO, "main", {".github/threat-model-bot.yml": "document: security/threat-model.md\ndry_run: true\n"},
             user=MAINTAINER)
    hub.push(REPO, "feature", {".github/threat-model-bot.yml": "dry_run: false\n"}, user=MAINTAINER)
    settings = await context_for().repo_settings()
    assert (settings.document, settings.dry_run) == ("security/threat-model.md", True)


async def test_an_invalid_settings_file_is_one_error_listing_its_problems(hub, context_for) -> None:
    hub.push(REPO, "main", {".github/threat-model-bot.yml": "retire: burn\ndigest: {day: someday}\n"}, user=MAINTAINER)
    with pytest.raises(RepoConfigError) as caught:
        await context_for().repo_settings()
    assert len(caught.value.problems) == 2
    assert "`digest.day`" in caught.value.as_markdown()


async def test_once_is_per_effect_across_deliveries(context_for) -> None:
    first, second = context_for("d-1"), context_for("d-2")
    assert await first.once("notice:Q9:123") is True
    assert await first.once("notice:Q9:123") is True  # the same delivery retrying
    assert await second.once("notice:Q9:123") is False
