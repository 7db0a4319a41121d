"""Fixtures for the batch jobs: a scheduler's environment (the App's credentials) pointing at the
lantern org on the shared local GitHub (`lantern_hub`, tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from lantern_world import CREDENTIAL_VARIABLES, app_id_of


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
