"""The side of the service that does the work: the worker, the scheduler and the App's GitHub client.

It runs on the web process's event loop, next to the intake (app.py builds it at startup). Tests
and the demo pass their own GitHub client or clock; the scheduler is theirs to tick.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.github.auth import AppCredentials, utc_now
from bot.github.client import GitHubApp
from bot.service.features import records_branch
from bot.service.runtime.handler_context import Context
from bot.service.runtime.routing import ComposedRouter
from bot.service.runtime.scheduler import Scheduler
from bot.service.runtime.service_config import ServiceConfig
from bot.service.runtime.worker import Worker
from bot.store.database import Database
from bot.store.inbox import Delivery, Inbox

_job_log = logging.getLogger("bot.service.jobs")
_PRUNE_EVERY_SECONDS = 3600.0


@dataclass
class WorkSide:
    worker: Worker
    scheduler: Scheduler
    github: GitHubApp
    inbox: Inbox
    owns_github: bool
    _background: list[asyncio.Task[None]] = field(default_factory=list, repr=False)

    def start(self, *, scheduler: bool) -> None:
        """The worker; pruning the inbox hourly; and, if asked, the scheduler, which reconciles
        now (whatever was missed while down), then posts digests and reconciles on a schedule."""
        self.worker.start()
        self._background.append(asyncio.create_task(self._prune_hourly(), name="inbox-prune"))
        if scheduler:
            self._background.append(asyncio.create_task(self.scheduler.run(), name="scheduler"))

    async def _prune_hourly(self) -> None:
        while True:
            try:
                await self.inbox.prune()
            except Exception:  # pruning can wait for the next hour
                logging.getLogger(__name__).exception("could not prune the inbox")
            await asyncio.sleep(_PRUNE_EVERY_SECONDS)

    async def close(self) -> None:
        """Stop now; deliveries in progress stay pending in the inbox and resume on the next start."""
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.worker.stop()
        if self.owns_github:
            await self.github.close()


def build_work_side(
    config: ServiceConfig,
    database: Database,
    router: ComposedRouter,
    *,
    github: GitHubApp | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> WorkSide:
    inbox = database.inbox
    gh_app = github or GitHubApp.create(AppCredentials(config.app_id, config.private_key), base_url=config.api_url)

    def context_for(
        repo: str | None, installation_id: int | None, work_id: str, log: logging.LoggerAdapter[Any], attempt: int = 1,
    ) -> Context:
        return Context(
            gh=gh_app.installation_client(installation_id) if installation_id is not None else None,
            installation_id=installation_id,
            repo=repo,
            delivery_id=work_id,
            state_dir=config.state_dir,
            settings=config,
            clock=clock,
            inbox=inbox,
            log=log,
            attempt=attempt,
        )

    def make_context(delivery: Delivery, log: logging.LoggerAdapter[Any]) -> Context:
        return context_for(delivery.repo, delivery.installation_id, delivery.delivery_id, log, delivery.attempts)

    def job_context(repo: str, installation_id: int, job_id: str) -> Context:
        return context_for(repo, installation_id, job_id, logging.LoggerAdapter(_job_log, {"job": job_id}))

    worker = Worker(
        inbox, router, make_context,
        concurrency=config.worker_concurrency,
        max_attempts=config.max_attempts,
        retry_base_seconds=config.retry_base_seconds,
        retry_max_seconds=config.retry_max_seconds,
        budget_seconds=config.delivery_budget_seconds,
        after_dispatch=records_branch.after_delivery,
        state_files=database.state_files,
    )
    scheduler = Scheduler(
        config.state_dir, job_context, clock,
        tick_seconds=config.scheduler_tick_seconds, reconcile_every=timedelta(hours=config.reconcile_every_hours),
        state_files=database.state_files,
    )
    return WorkSide(worker, scheduler, gh_app, inbox, owns_github=github is None)
