"""The aiohttp application: POST /webhook, GET /health, and the work side's lifetime.

`create_app(config)` wires the real pieces: the inbox (bot/store/inbox.py, or PostgreSQL with
DATABASE_URL: bot/store/postgres.py), the intake that
records into it (intake.py) and the worker that takes from it (worker.py), all on one event
loop. Tests and the demo pass their own `router` (a composed gidgethub Router), `github` (e.g.
pointed at the local GitHub) or clock; never fakes of ours.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from bot.github.auth import utc_now
from bot.github.client import GitHubApp
from bot.service.runtime.intake import Intake
from bot.service.runtime.routing import ComposedRouter, build_router
from bot.service.runtime.scheduler import Scheduler
from bot.service.runtime.service_config import ServiceConfig
from bot.service.runtime.startup_checks import GITHUB_STATUS
from bot.service.runtime.worker import Worker
from bot.store.database import open_database
from bot.store.inbox import Inbox

INBOX = web.AppKey("inbox", Inbox)
WORKER = web.AppKey("worker", Worker)
CONFIG = web.AppKey("config", ServiceConfig)
ROUTER = web.AppKey("router", ComposedRouter)
INTAKE = web.AppKey("intake", Intake)
GITHUB = web.AppKey("github", GitHubApp)
SCHEDULER = web.AppKey("scheduler", Scheduler)


def create_app(
    config: ServiceConfig,
    *,
    router: ComposedRouter | None = None,
    github: GitHubApp | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> web.Application:
    app = web.Application(client_max_size=config.max_body_bytes)
    app[CONFIG] = config
    app[ROUTER] = router or build_router()
    app.cleanup_ctx.append(_lifetime(config, app[ROUTER], github, clock))
    app.router.add_post("/webhook", _webhook)
    app.router.add_get("/health", _health)
    return app


def _lifetime(
    config: ServiceConfig, router: ComposedRouter, github: GitHubApp | None, clock: Callable[[], datetime]
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        from bot.service.runtime.work_side import build_work_side

        database = await open_database(config.state_dir, config.database_url, takeover_after=config.takeover_after_seconds)
        inbox = database.inbox
        work = build_work_side(config, database, router, github=github, clock=clock)
        # Set during startup (before aiohttp freezes the app); /webhook finds the intake here.
        app[INBOX], app[WORKER], app[GITHUB], app[SCHEDULER] = inbox, work.worker, work.github, work.scheduler
        app[INTAKE] = Intake(secret=config.webhook_secret, max_body_bytes=config.max_body_bytes,
                             router=router, inbox=inbox, wake=work.worker.wake, body_timeout=config.body_timeout_seconds)
        # The worker resumes whatever is pending in the inbox; tests and the demo tick the
        # scheduler themselves (scheduler_enabled off).
        work.start(scheduler=config.scheduler_enabled)
        try:
            yield
        finally:
            await work.close()
            await database.close()

    return lifetime


async def _webhook(request: web.Request) -> web.Response:
    return await request.app[INTAKE].handle(request)


async def _health(request: web.Request) -> web.Response:
    inbox = request.app.get(INBOX)
    worker = request.app.get(WORKER)
    counts = await inbox.counts() if inbox is not None else {}
    health: dict[str, object] = {"status": "ok", "deliveries": counts, "worker_busy": bool(worker and worker.busy)}
    github_status = request.app.get(GITHUB_STATUS)  # set by `serve` (startup_checks.watch_github)
    if github_status is not None:
        health.update(github_status.report(counts))
    return web.json_response(health)
