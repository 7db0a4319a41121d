"""The sandbox: the local GitHub and the real service, wired together on loopback.

Used by `python -m bot demo` and by the end-to-end tests, so both exercise the same path a
real installation does: signed webhooks over HTTP, App JWT → installation token, REST and
GraphQL calls answered by the local GitHub.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.service.runtime.app import INBOX, SCHEDULER, WORKER, create_app
from bot.service.runtime.scheduler import Scheduler
from bot.service.runtime.service_config import ServiceConfig
from localhub.server import LocalHub

log = logging.getLogger(__name__)

APP_ID = 4242
STOP_BOUND_SECONDS = 30
INSTALLATION_ID = 77
ORG = "apache"
REPO = "apache/cloudstack"
BOT_LOGIN = "threat-model-bot[bot]"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Sandbox:
    hub: LocalHub
    app: web.Application
    config: ServiceConfig
    webhook_url: str
    private_key: str  # the App's key, for a second service instance (restart tests)

    async def settle(self, timeout: float = 20.0) -> None:
        """Wait until every webhook was delivered and handled, including the ones the bot's own
        writes set off (its comments come back as webhooks, as on GitHub)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            await self.hub.deliveries_settled(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
            await self.app[WORKER].join()
            await asyncio.sleep(0.02)
            if not self.app[WORKER].busy and await self._all_delivered():
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the sandbox did not settle")

    async def _all_delivered(self) -> bool:
        return len(await self.hub.deliveries_settled(timeout=1.0)) == len(self.hub.deliveries)

    @property
    def scheduler(self) -> Scheduler:
        return self.app[SCHEDULER]

    async def failed_deliveries(self) -> int:
        return (await self.app[INBOX].counts()).get("failed", 0)


@functools.cache
def sandbox_app_key() -> tuple[str, bytes]:
    """One App key for every sandbox of a process: each sandbox has its own local GitHub, so
    sharing it costs nothing, and making a 2048-bit key takes about 75 ms of CPU."""
    return new_app_key()


def new_app_key() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode("ascii"), public


@asynccontextmanager
async def start_service(
    hub: LocalHub, state_dir: Path, private_key: str, *, clock: Callable[[], datetime] = utc_now,
    database_url: str | None = None,
) -> AsyncIterator[Sandbox]:
    """The service on a loopback port, talking to `hub`, receiving its webhooks.

    A second one on the same `state_dir` (or the same `database_url`, PostgreSQL) shares its
    inbox and state, as a second instance would. The scheduler is off: tests and the demo set
    the clock and tick it themselves."""
    secret = secrets.token_hex(16)
    config = ServiceConfig(
        app_id=str(APP_ID), private_key=private_key, webhook_secret=secret, api_url=hub.url,
        state_dir=state_dir, database_url=database_url, retry_base_seconds=0.05, retry_max_seconds=0.2,
        scheduler_enabled=False,  # the demo and tests run `box.scheduler.tick()` when they mean to
    )
    app = create_app(config, clock=clock)
    # Requests in flight get 2 s at stop, as `serve` gives them 3: a test never waits a minute.
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/webhook"
    hub.set_webhook(url, secret)
    try:
        yield Sandbox(hub=hub, app=app, config=config, webhook_url=url, private_key=private_key)
    finally:
        hub.set_webhook(None)
        # Bounded, so that a stop that hangs names itself (where each task waits) instead of
        # stalling a test run.
        stopping = asyncio.ensure_future(runner.cleanup())
        try:
            done, _ = await asyncio.wait({stopping}, timeout=STOP_BOUND_SECONDS)
            if not done:
                log.warning("sandbox: the service did not stop within %d s; still running: %s", STOP_BOUND_SECONDS,
                            "; ".join(_where(task) for task in asyncio.all_tasks() if task is not asyncio.current_task()))
        finally:
            if not stopping.done():
                stopping.cancel()
                await asyncio.gather(stopping, return_exceptions=True)
        if not stopping.cancelled():
            stopping.result()  # a stop that failed fails its caller


def _where(task: asyncio.Task[Any]) -> str:
    """A task's name and the chain of awaits it is stuck in, for the warning about a hung stop."""
    steps: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None and len(steps) < 12:
        frame = next((getattr(awaited, name) for name in ("cr_frame", "gi_frame", "ag_frame") if getattr(awaited, name, None)), None)
        if frame is not None:
            steps.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}:{frame.f_lineno}")
        awaited = next((getattr(awaited, name) for name in ("cr_await", "gi_yieldfrom", "ag_await") if getattr(awaited, name, None)), None)
    return f"{task.get_name()} at " + " > ".join(steps)


@asynccontextmanager
async def sandbox(
    state_dir: Path,
    *,
    maintainers: dict[str, str],
    files: dict[str, str] | None = None,
    clock: Callable[[], datetime] = utc_now,
    database_url: str | None = None,
) -> AsyncIterator[Sandbox]:
    """A local GitHub with org `apache` (`maintainers`: login -> org role), repo
    apache/cloudstack holding `files`, the App installed, and the service running (on
    PostgreSQL with `database_url`, else SQLite in `state_dir`)."""
    private_key, public_key = sandbox_app_key()
    async with LocalHub.start() as hub:
        hub.register_app(APP_ID, public_key)
        hub.add_org(ORG, maintainers)
        hub.create_repo(REPO, files or {"README.md": "# cloudstack\n"})
        hub.install_app(APP_ID, ORG, installation_id=INSTALLATION_ID)
        async with start_service(hub, state_dir, private_key, clock=clock, database_url=database_url) as running:
            yield running
