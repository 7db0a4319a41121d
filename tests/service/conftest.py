"""What the service's tests share."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.github.auth import AppCredentials
from bot.github.client import GitHubApp, RetryPolicy
from bot.service.runtime.handler_context import Context
from bot.service.runtime.service_config import ServiceConfig
from bot.store.inbox import SqliteInbox
from databases import parametrize_databases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_databases(metafunc)  # ON_BOTH_DATABASES modules: SQLite and PostgreSQL


@pytest.fixture(scope="session")
def private_key_pem() -> str:
    """An App's private key (PEM): made once, since RSA keys are slow to generate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


# The world tests/conftest.py's `hub` fixture seeds (not imported: another conftest.py may
# shadow the module name); checked against the hub below.
APP_ID, INSTALLATION_ID, REPO, MAINTAINER = 4242, 77, "apache/cloudstack", "maintainer"


@pytest.fixture
async def context_for(hub, rsa_key_pair, tmp_path: Path) -> AsyncIterator:
    assert INSTALLATION_ID in hub.state.installations and hub.state.repo(*REPO.split("/")) is not None
    inbox = await SqliteInbox.open(tmp_path / "inbox.sqlite3")
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(session, AppCredentials(str(APP_ID), rsa_key_pair.private_pem.decode()),
                           base_url=hub.url, retry=RetryPolicy(base_delay=0.01))
        config = ServiceConfig(app_id=str(APP_ID), private_key=rsa_key_pair.private_pem.decode(),
                               webhook_secret="s", api_url=hub.url, state_dir=tmp_path)

        def make(delivery_id: str = "d-1") -> Context:
            return Context(
                gh=github.installation_client(INSTALLATION_ID), installation_id=INSTALLATION_ID, repo=REPO,
                delivery_id=delivery_id, state_dir=tmp_path, settings=config,
                clock=lambda: datetime.now(UTC), inbox=inbox,
                log=logging.LoggerAdapter(logging.getLogger("test"), {}),
            )

        yield make
    await inbox.close()
