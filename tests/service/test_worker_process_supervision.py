"""The web process without a working worker process: it refuses what cannot cross, and keeps acking."""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from gidgethub.routing import Router
from test_webhook_service import SECRET, payload, signed_headers

from bot.service.app import JOURNAL, create_app
from bot.service.config import ServiceConfig
from bot.service.handlers import ping
from bot.service.journal import Journal, NewDelivery
from bot.service.routing import ComposedRouter, compose
from bot.service.worker_process import WorkerProcess


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


def router_whose_ping_takes_the_worker_process_down() -> ComposedRouter:
    """Module level, for the worker process: a delivery that ends its process, as running out of
    memory on a huge payload or a crash in C code would."""
    router = Router()

    @router.register("ping")
    async def die(event: object, ctx: object) -> None:
        os._exit(137)

    return compose(router)


@asynccontextmanager
async def journal_in(config: ServiceConfig) -> AsyncIterator[Journal]:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    journal = await Journal.open(config.journal_path)
    try:
        yield journal
    finally:
        await journal.close()


async def test_a_delivery_that_takes_the_worker_process_down_fails_after_max_attempts(
    tmp_path: Path, private_key_pem: str,
) -> None:
    config = config_for(tmp_path, private_key_pem)
    async with journal_in(config) as journal:
        await journal.record(NewDelivery("fatal", "ping", None, None, None, "app", b'{"zen": "z"}', 1.0))
        await journal.record(NewDelivery("fine", "ping", None, None, None, "other", b'{"zen": "z"}', 2.0))
        worker = WorkerProcess(config, journal, router_whose_ping_takes_the_worker_process_down,
                               restart_base_seconds=0.01, restart_max_seconds=0.01)
        await worker.start()
        try:
            for _ in range(600):
                fatal = await journal.get("fatal")
                if fatal is not None and fatal.state == "failed":
                    break
                await asyncio.sleep(0.05)
        finally:
            await asyncio.wait_for(worker.stop(), timeout=30)
        assert fatal is not None and fatal.state == "failed" and fatal.attempts == config.max_attempts
        assert "worker process died" in (fatal.last_error or "")
        assert worker.restarts <= config.max_attempts + 1, "it is not sent into every new worker process"


async def test_stop_while_the_journal_is_still_being_read_back_does_not_hang(tmp_path: Path, private_key_pem: str) -> None:
    config = config_for(tmp_path, private_key_pem)
    async with journal_in(config) as journal:
        reading = asyncio.Event()
        read_back = journal.unfinished

        async def slowly_read_back() -> list:  # a long backlog, a slow disk
            reading.set()
            await asyncio.sleep(0.3)
            return await read_back()

        journal.unfinished = slowly_read_back  # type: ignore[method-assign]
        worker = WorkerProcess(config, journal, ping_only)
        await worker.start()
        await reading.wait()
        await asyncio.wait_for(worker.stop(), timeout=15)
        assert worker.pid is not None and not worker.alive


async def test_a_deadline_on_stop_still_applies(tmp_path: Path, private_key_pem: str) -> None:
    config = config_for(tmp_path, private_key_pem)
    async with journal_in(config) as journal:
        worker = WorkerProcess(config, journal, ping_only)
        never = asyncio.get_running_loop().create_future()
        worker._supervisor = asyncio.ensure_future(never)  # a supervisor that will not end
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(worker.stop(), 0.1)
        finally:
            never.cancel()


def router_whose_first_ping_holds_the_worker_process() -> ComposedRouter:
    """Module level, for the worker process: its first ping blocks its event loop for a second,
    so nothing is read from the link meanwhile and the web process has to hold back."""
    router = Router()
    held: list[bool] = []

    @router.register("ping")
    async def hold(event: object, ctx: object) -> None:
        if not held:
            held.append(True)
            time.sleep(1.0)  # noqa: ASYNC251 - on purpose: the point is a blocked loop

    return compose(router)


async def test_a_backlog_bigger_than_the_link_waits_its_turn_and_all_of_it_is_handled(
    tmp_path: Path, private_key_pem: str,
) -> None:
    config = config_for(tmp_path, private_key_pem)
    async with journal_in(config) as journal:
        worker = WorkerProcess(config, journal, router_whose_first_ping_holds_the_worker_process)
        await worker.start()
        try:
            for _ in range(200):
                if worker.alive:
                    break
                await asyncio.sleep(0.05)
            body = json.dumps({"zen": "x" * 64_000}).encode()  # 80 of these: about 5 MB, over the link's 1 MB
            for index in range(80):
                delivery = NewDelivery(f"big-{index}", "ping", None, None, None, f"lane-{index % 4}", body, float(index))
                assert await journal.record(delivery)
                worker.submit_new(delivery)
            await asyncio.wait_for(worker.join(), timeout=60)
            assert await journal.counts() == {"done": 80}
        finally:
            await asyncio.wait_for(worker.stop(), timeout=30)
