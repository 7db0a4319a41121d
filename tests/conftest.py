"""Shared pytest fixtures: the local GitHub (localhub) and an App key pair.

Fixtures
--------
rsa_key_pair (session)   `KeyPair(private_pem: bytes, public_pem: bytes)`, RSA 2048, made once.
hub                      A started `LocalHub` on 127.0.0.1 (random port) on the test's loop, with:
                           - App `APP_ID` ("threat-model-bot", bot user "threat-model-bot[bot]")
                             registered with `rsa_key_pair.public_pem`;
                           - org `ORG` ("apache") with members `MAINTAINER` ("admin") and
                             `MEMBER`; repo `REPO` ("apache/cloudstack") with `SEED_FILES`;
                           - the App installed on the org as installation `INSTALLATION_ID`.
                         No webhook URL is set: add `webhook_inbox` to receive deliveries.
webhook_inbox            A loopback receiver the hub delivers to (secret `WEBHOOK_SECRET`); it
                         checks every X-Hub-Signature-256 and keeps `inbox.events`
                         (list of `(event_name, delivery_guid, payload)`); `inbox.status` sets
                         the status it answers with (default 200).
hub_in_thread            The same world on a `ThreadedHub` (own loop in a background thread)
                         for synchronous clients such as PyGithub; use `.url`, `.hub`,
                         `.call(fn, *args)` and `.deliveries_settled()`.
installation_token       async: `await installation_token(hub)` -> a fresh installation token,
                         obtained over HTTP with the App's JWT.
lantern_hub              `hub_in_thread` plus the batch jobs' own corner (tests/lantern_world.py):
                         org `lantern`, repo `lantern/lantern`, the App installed there.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from databases import database, postgres_server  # noqa: F401 - fixtures for every test directory
from hub_world import (
    INSTALLATION_ID,
    WEBHOOK_SECRET,
    Inbox,
    KeyPair,
    app_jwt,
    seed_world,
)
from lantern_world import (
    LANTERN_MAINTAINER,
    LANTERN_MEMBER,
    LANTERN_ORG,
    LANTERN_REPO,
    app_id_of,
)
from localhub.server import LocalHub, ThreadedHub

pytest_plugins = ["openapi.plugin"]  # every exchange with the local GitHub held to GitHub's description


def pytest_configure(config: pytest.Config) -> None:
    """Cache bytecode even where PYTHONDONTWRITEBYTECODE is set (these machines set it): otherwise
    every xdist worker rewrites and compiles every test module again, and each of the suite's
    hundred-odd `python -m bot` subprocesses compiles the bot. The workers and subprocesses
    inherit this environment; __pycache__ is ignored by git."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers a core. Most tests wait on a subprocess, a loopback server or a
    poll, so one worker a core leaves the cores half idle."""
    return 2 * len(os.sched_getaffinity(0))


# Tests that spend most of a minute waiting on subprocesses (a chaos run, `serve` stopped by
# signals): started first, they wait while the other workers get through the rest.
LONG_WAITS = ("tests/service/test_chaos.py", "tests/service/test_serve_process.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_WAITS))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def rsa_key_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(private, public)


@pytest.fixture
async def hub(rsa_key_pair: KeyPair) -> AsyncIterator[LocalHub]:
    async with LocalHub.start() as started:
        seed_world(started, rsa_key_pair)
        yield started


@pytest.fixture
def hub_in_thread(rsa_key_pair: KeyPair) -> Iterator[ThreadedHub]:
    with ThreadedHub.start() as runner:
        runner.call(seed_world, runner.hub, rsa_key_pair)
        yield runner


@pytest.fixture
def lantern_hub(hub_in_thread: ThreadedHub) -> ThreadedHub:
    """The hub in its background thread, with the lantern org and repository and the App installed."""

    def seed() -> None:
        hub = hub_in_thread.hub
        hub.add_org(LANTERN_ORG, {LANTERN_MAINTAINER: "admin", LANTERN_MEMBER: "member"})
        hub.create_repo(LANTERN_REPO)
        hub.install_app(app_id_of(hub_in_thread), LANTERN_ORG)

    hub_in_thread.call(seed)
    return hub_in_thread


@pytest.fixture
def installation_token(rsa_key_pair: KeyPair) -> Callable[[LocalHub], Any]:
    async def fetch(hub: LocalHub, installation_id: int = INSTALLATION_ID) -> str:
        async with ClientSession() as session:
            async with session.post(f"{hub.url}/app/installations/{installation_id}/access_tokens",
                                    headers={"Authorization": f"Bearer {app_jwt(rsa_key_pair)}"}) as response:
                assert response.status == 201, await response.text()
                return str((await response.json())["token"])
    return fetch


@pytest.fixture
async def webhook_inbox(hub: LocalHub) -> AsyncIterator[Inbox]:
    inbox = Inbox()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
            inbox.bad_signatures += 1
            return web.Response(status=401)
        inbox.events.append((request.headers["X-GitHub-Event"], request.headers["X-GitHub-Delivery"],
                             await request.json()))
        return web.Response(status=inbox.status)

    app = web.Application()
    app.router.add_post("/webhook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    inbox.url = f"http://127.0.0.1:{port}/webhook"
    hub.set_webhook(inbox.url, WEBHOOK_SECRET)
    yield inbox
    await runner.cleanup()


SCHEMA_ROOT = Path(__file__).parent / "fixtures" / "schemas" / "api.github.com"


@pytest.fixture(scope="session")
def validate_webhook() -> Callable[[str, dict[str, Any]], bool]:
    """`validate_webhook(event, payload)`: raises jsonschema.ValidationError when the payload
    breaks octokit's schema for `<event>/<action>`; returns False when no schema is kept here
    (tests/fixtures/schemas holds the events the bot handles), True when it validated."""
    import json

    from jsonschema import Draft7Validator
    from referencing import Registry, Resource

    def retrieve(uri: str) -> Resource:
        return Resource.from_contents(json.loads((SCHEMA_ROOT / uri).read_text()))

    registry: Registry = Registry(retrieve=retrieve)  # type: ignore[call-arg]

    def validate(event: str, payload: dict[str, Any]) -> bool:
        path = SCHEMA_ROOT / event / f"{payload.get('action', 'event')}.schema.json"
        if not path.exists():
            return False
        schema = json.loads(path.read_text())
        Draft7Validator(schema, registry=registry).validate(payload)
        return True

    return validate
