"""Context.repo_settings reads `.github/threat-model-bot.yml` from the default branch (local GitHub)."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest

from bot.core.settings import RepoSettings
from bot.github.auth import AppCredentials
from bot.github.client import GitHubApp, RetryPolicy
from bot.service.config import ServiceConfig
from bot.service.context import Context
from bot.service.journal import Journal
from bot.store.repo_config import RepoConfigError

# The world tests/conftest.py's `hub` fixture seeds (not imported: another conftest.py may
# shadow the module name); checked against the hub below.
APP_ID, INSTALLATION_ID, REPO, MAINTAINER = 4242, 77, "apache/cloudstack", "maintainer"


@pytest.fixture
async def context_for(hub, rsa_key_pair, tmp_path: Path) -> AsyncIterator:
    assert INSTALLATION_ID in hub.state.installations and hub.state.repo(*REPO.split("/")) is not None
    journal = await Journal.open(tmp_path / "journal.sqlite3")
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(session, AppCredentials(str(APP_ID), rsa_key_pair.private_pem.decode()),
                           base_url=hub.url, retry=RetryPolicy(base_delay=0.01))
        config = ServiceConfig(app_id=str(APP_ID), private_key=rsa_key_pair.private_pem.decode(),
                               webhook_secret="s", api_url=hub.url, state_dir=tmp_path)

        def make(delivery_id: str = "d-1") -> Context:
            return Context(
                gh=github.installation_client(INSTALLATION_ID), installation_id=INSTALLATION_ID, repo=REPO,
                delivery_id=delivery_id, state_dir=tmp_path, settings=config,
                clock=lambda: datetime.now(timezone.utc), journal=journal,
                log=logging.LoggerAdapter(logging.getLogger("test"), {}),
            )

        yield make
    await journal.close()


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
