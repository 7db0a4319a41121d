"""Fixtures for the batch jobs: the lantern org on the shared local GitHub, and a scheduler's
environment (the App's credentials) pointing at it."""
from __future__ import annotations

from pathlib import Path

import pytest
from lantern_world import CREDENTIAL_VARIABLES, MAINTAINER, MEMBER, ORG, REPO, app_id_of


@pytest.fixture
def lantern_hub(hub_in_thread):
    """The hub in its background thread, with our org and repository and the App installed."""

    def seed() -> None:
        hub = hub_in_thread.hub
        hub.add_org(ORG, {MAINTAINER: "admin", MEMBER: "member"})
        hub.create_repo(REPO)
        hub.install_app(app_id_of(hub_in_thread), ORG)

    hub_in_thread.call(seed)
    return hub_in_thread


@pytest.fixture
def scheduler_env(lantern_hub, rsa_key_pair, tmp_path: Path, monkeypatch):
    """The environment a scheduler runs the job in: the App's credentials, the local GitHub."""
    for variable in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    key = tmp_path / "app.pem"
    key.write_bytes(rsa_key_pair.private_pem)
    monkeypatch.setenv("GITHUB_API_URL", lantern_hub.url)
    monkeypatch.setenv("GITHUB_APP_ID", str(app_id_of(lantern_hub)))
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key))
    return lantern_hub
