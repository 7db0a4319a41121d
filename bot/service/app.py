"""The aiohttp application: POST /webhook, GET /health, and the worker's lifetime.

`create_app(config)` wires the real pieces; tests and the bench pass their own `router` (a
composed gidgethub Router) or `github` (e.g. pointed at the local GitHub) — never fakes of ours.
Startup opens the journal and resumes unfinished deliveries *before* the first request is taken.
"""
from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.github.auth import AppCredentials, utc_now
from bot.github.client import GitHubApp
from bot.service.config import ServiceConfig
from bot.service import records_branch
from bot.service.context import Context
from bot.service.intake import Intake
from bot.service.journal import Delivery, Journal
from bot.service.routing import ComposedRouter, build_router
from bot.service.scheduler import Scheduler
from bot.service.worker import Worker

JOURNAL = web.AppKey("journal", Journal)
WORKER = web.AppKey("worker", Worker)
GITHUB = web.AppKey("github", GitHubApp)
CONFIG = web.AppKey("config", ServiceConfig)
ROUTER = web.AppKey("router", ComposedRouter)
SCHEDULER = web.AppKey("scheduler", Scheduler)
_job_log = logging.getLogger("bot.service.jobs")
INTAKE = web.AppKey("intake", Intake)


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
        config.state_dir.mkdir(parents=True, exist_ok=True)
        journal = await Journal.open(config.journal_path, config.journal_synchronous)
        owns_github = github is None
        gh_app = github or GitHubApp.create(
            AppCredentials(config.app_id, config.private_key), base_url=config.api_url
        )

        def context_for(repo: str | None, installation_id: int | None, work_id: str, log: logging.LoggerAdapter[Any]) -> Context:
            return Context(
                gh=gh_app.installation_client(installation_id) if installation_id is not None else None,
                installation_id=installation_id,
                repo=repo,
                delivery_id=work_id,
                state_dir=config.state_dir,
                settings=config,
                clock=clock,
                journal=journal,
                log=log,
            )

        def make_context(delivery: Delivery, log: logging.LoggerAdapter[Any]) -> Context:
            return context_for(delivery.repo, delivery.installation_id, delivery.delivery_id, log)

        def job_context(repo: str, installation_id: int, job_id: str) -> Context:
            return context_for(repo, installation_id, job_id, logging.LoggerAdapter(_job_log, {"job": job_id}))

        worker = Worker(
            journal, router, make_context,
            concurrency=config.worker_concurrency,
            max_attempts=config.max_attempts,
            retry_base_seconds=config.retry_base_seconds,
            retry_max_seconds=config.retry_max_seconds,
            after_dispatch=records_branch.after_delivery,
        )
        intake = Intake(
            secret=config.webhook_secret, max_body_bytes=config.max_body_bytes,
            router=router, journal=journal, worker=worker,
        )
        # Set during startup (before aiohttp freezes the app); /webhook finds the intake here.
        scheduler = Scheduler(
            config.state_dir, job_context, clock,
            tick_seconds=config.scheduler_tick_seconds, reconcile_every=timedelta(hours=config.reconcile_every_hours),
        )
        app[JOURNAL], app[WORKER], app[GITHUB], app[INTAKE], app[SCHEDULER] = journal, worker, gh_app, intake, scheduler
        await worker.start()
        # Reconcile after a restart, then post digests and reconcile on a schedule (no webhook
        # starts these). Off for tests and the demo, which drive `scheduler.tick()` themselves.
        scheduled = asyncio.create_task(scheduler.run(), name="scheduler") if config.scheduler_enabled else None
        # Everything loaded so far (modules, router, config) lives as long as the process: keep it
        # out of the collector's way, so a full collection under load is short (bench: gc pauses).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if scheduled is not None:
                scheduled.cancel()
                await asyncio.gather(scheduled, return_exceptions=True)
            await worker.stop()
            await journal.close()
            if owns_github:
                await gh_app.close()

    return lifetime


async def _webhook(request: web.Request) -> web.Response:
    return await request.app[INTAKE].handle(request)


async def _health(request: web.Request) -> web.Response:
    journal = request.app.get(JOURNAL)
    worker = request.app.get(WORKER)
    counts = await journal.counts() if journal is not None else {}
    return web.json_response({"status": "ok", "deliveries": counts, "worker_busy": bool(worker and worker.busy)})
