"""The web process without a working worker process: it refuses what cannot cross, and keeps acking."""
from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from gidgethub.routing import Router
from test_webhook_service import SECRET, payload, signed_headers

from bot.service.app import JOURNAL, create_app
from bot.service.config import ServiceConfig
from bot.service.handlers import ping
from bot.service.routing import ComposedRouter, compose


def router_that_fails_in_the_worker_process() -> ComposedRouter:
    """Module level, so the worker process can import it; there it fails, as a broken deploy would."""
    if multiprocessing.current_process().name == "bot-worker":
        raise RuntimeError("this worker process cannot build its router")
    return compose(ping.router)


def ping_only() -> ComposedRouter:
    return compose(ping.router)


def config_for(tmp_path: Path, private_key: str) -> ServiceConfig:
    return ServiceConfig(app_id="1", private_key=private_key, webhook_secret=SECRET,
                         api_url="http://127.0.0.1:9", state_dir=tmp_path / "state", scheduler_enabled=False)


def test_what_cannot_cross_into_the_worker_process_is_refused_with_the_way_out(tmp_path: Path, private_key_pem: str) -> None:
    config = config_for(tmp_path, private_key_pem)
    with pytest.raises(ValueError, match="router_factory, or set worker_process=False"):
        create_app(config, router=compose(Router()))
    with pytest.raises(ValueError, match="module-level function"):
        create_app(config, router_factory=lambda: compose(ping.router))
    assert create_app(config, router_factory=router_that_fails_in_the_worker_process) is not None


async def test_deliveries_are_still_acked_and_kept_while_the_worker_process_keeps_failing(
    tmp_path: Path, private_key_pem: str,
) -> None:
    app = create_app(config_for(tmp_path, private_key_pem), router_factory=router_that_fails_in_the_worker_process)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        body = payload("ping")
        response = await client.post("/webhook", data=body, headers=signed_headers(body, "ping", "p-1"))
        assert response.status == 202
        health: dict = {}
        for _ in range(200):
            health = await (await client.get("/health")).json()
            if health["worker_process"]["restarts"] >= 1:
                break
            await asyncio.sleep(0.05)
        assert health["worker_process"]["restarts"] >= 1, "a worker process that died was started again"
        assert health["deliveries"] == {"pending": 1} and health["worker_busy"] is True
        assert (await app[JOURNAL].get("p-1")).state == "pending"  # type: ignore[union-attr]
    finally:
        await client.close()  # and stopping does not wait out the restart backoff


async def test_stopping_while_the_worker_process_starts_ends_it_without_waiting_for_anything(
    tmp_path: Path, private_key_pem: str,
) -> None:
    app = create_app(config_for(tmp_path, private_key_pem), router_factory=ping_only)
    client = TestClient(TestServer(app))
    await client.start_server()  # the worker process is being spawned now
    await asyncio.wait_for(client.close(), timeout=15)
    assert not [child for child in multiprocessing.active_children() if child.name == "bot-worker"], \
        "no worker process outlives its service"
