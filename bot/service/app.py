"""The aiohttp application: POST /webhook, GET /health, and the work side's lifetime.

`create_app(config)` wires the real pieces. The work (worker + scheduler, work.py) runs in a
worker process of its own by default (worker_process.py), or inline on this loop when
`config.worker_process` is off — tests and the demo do that, passing their own `router` (a
composed gidgethub Router), `github` (e.g. pointed at the local GitHub) or clock; never fakes of
ours. A worker process builds its router from `router_factory`, a module-level function it can
import. Startup opens the journal and resumes unfinished deliveries before the first request.
"""
from __future__ import annotations

import gc
import pickle
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Protocol

from aiohttp import web

from bot.github.auth import utc_now
from bot.github.client import GitHubApp
from bot.service.config import ServiceConfig
from bot.service.intake import Intake
from bot.service.journal import Journal, NewDelivery
from bot.service.routing import ComposedRouter, build_router
from bot.service.scheduler import Scheduler
from bot.service.startup_checks import GITHUB_STATUS
from bot.service.worker import AckFirst
from bot.service.worker_process import RouterFactory, WorkerProcess


class WorkHandle(Protocol):
    """What the web process knows of the work: the inline Worker, or the WorkerProcess."""

    @property
    def busy(self) -> bool: ...

    def join(self) -> Awaitable[None]: ...


JOURNAL = web.AppKey("journal", Journal)
WORKER = web.AppKey("worker", WorkHandle)
CONFIG = web.AppKey("config", ServiceConfig)
ROUTER = web.AppKey("router", ComposedRouter)
INTAKE = web.AppKey("intake", Intake)
# Inline only (the work side lives in this process):
GITHUB = web.AppKey("github", GitHubApp)
SCHEDULER = web.AppKey("scheduler", Scheduler)


def create_app(
    config: ServiceConfig,
    *,
    router: ComposedRouter | None = None,
    router_factory: RouterFactory = build_router,
    github: GitHubApp | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> web.Application:
    if config.worker_process:
        _check_it_can_cross(router_factory, router, github, clock)
    app = web.Application(client_max_size=config.max_body_bytes)
    app[CONFIG] = config
    app[ROUTER] = router or router_factory()
    lifetime = _in_worker_process(config, router_factory) if config.worker_process else _inline(config, app[ROUTER], github, clock)
    app.cleanup_ctx.append(lifetime)
    app.router.add_post("/webhook", _webhook)
    app.router.add_get("/health", _health)
    return app


def _check_it_can_cross(
    router_factory: RouterFactory, router: ComposedRouter | None, github: GitHubApp | None, clock: Callable[[], datetime],
) -> None:
    """Fail at startup, not in every worker process the supervisor would start and lose."""
    if router is not None or github is not None or clock is not utc_now:
        raise ValueError("a router, GitHub client or clock cannot cross into the worker process: "
                         "pass router_factory, or set worker_process=False")
    try:
        pickle.dumps(router_factory)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise ValueError(f"router_factory must be a module-level function the worker process can import: {error}") from error


def _inline(
    config: ServiceConfig, router: ComposedRouter, github: GitHubApp | None, clock: Callable[[], datetime]
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        from bot.service.work import build_work_side

        journal = await _open_journal(config)
        work = build_work_side(config, journal, router, github=github, clock=clock)
        # Set during startup (before aiohttp freezes the app); /webhook finds the intake here.
        app[JOURNAL], app[WORKER], app[GITHUB], app[SCHEDULER] = journal, work.worker, work.github, work.scheduler
        app[INTAKE] = _intake(config, router, journal, work.worker.submit_new, work.worker.ack_first)
        work.worker.resume(await journal.unfinished())
        if config.scheduler_enabled:  # off for tests and the demo, which drive `scheduler.tick()` themselves
            work.start_scheduler()
        _freeze_startup_objects()
        try:
            yield
        finally:
            await work.close()
            await journal.close()

    return lifetime


def _in_worker_process(config: ServiceConfig, router_factory: RouterFactory) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        journal = await _open_journal(config)
        worker = WorkerProcess(config, journal, router_factory)
        app[JOURNAL], app[WORKER] = journal, worker
        app[INTAKE] = _intake(config, app[ROUTER], journal, worker.submit_new, None)
        await worker.start()
        _freeze_startup_objects()
        try:
            yield
        finally:
            await worker.stop()
            await journal.close()

    return lifetime


async def _open_journal(config: ServiceConfig) -> Journal:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    return await Journal.open(config.journal_path, config.journal_synchronous)


def _intake(
    config: ServiceConfig, router: ComposedRouter, journal: Journal,
    submit: Callable[[NewDelivery], None], ack_first: AckFirst | None,
) -> Intake:
    return Intake(secret=config.webhook_secret, max_body_bytes=config.max_body_bytes,
                  router=router, journal=journal, submit=submit, ack_first=ack_first)


def _freeze_startup_objects() -> None:
    # Everything loaded so far (modules, router, config) lives as long as the process: keep it
    # out of the collector's way, so a full collection under load is short (bench: gc pauses).
    gc.collect()
    gc.freeze()


async def _webhook(request: web.Request) -> web.Response:
    return await request.app[INTAKE].handle(request)


async def _health(request: web.Request) -> web.Response:
    journal = request.app.get(JOURNAL)
    worker = request.app.get(WORKER)
    counts = await journal.counts() if journal is not None else {}
    health: dict[str, object] = {"status": "ok", "deliveries": counts, "worker_busy": bool(worker and worker.busy)}
    if isinstance(worker, WorkerProcess):
        health["worker_process"] = {"alive": worker.alive, "restarts": worker.restarts}
    github_status = request.app.get(GITHUB_STATUS)  # set by `serve` (startup_checks.watch_github)
    if github_status is not None:
        health.update(github_status.report(counts))
    return web.json_response(health)
