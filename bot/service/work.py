"""The side of the service that does the work: the worker, the scheduler and the App's GitHub client.

It runs either inline, on the web process's event loop (tests and the demo, which inject a
clock and drive the scheduler themselves), or in a worker process of its own (`serve`'s
default, worker_process.py), so handlers never take CPU from the acks. Both build it here.
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
from bot.service import records_branch
from bot.service.config import ServiceConfig
from bot.service.context import Context
from bot.service.journal import Delivery, WorkJournal
from bot.service.routing import ComposedRouter
from bot.service.scheduler import Scheduler
from bot.service.worker import DeliveryHook, Worker

_job_log = logging.getLogger("bot.service.jobs")


@dataclass
class WorkSide:
    worker: Worker
    scheduler: Scheduler
    github: GitHubApp
    owns_github: bool
    _scheduled: asyncio.Task[None] | None = field(default=None, repr=False)

    def start_scheduler(self) -> None:
        """Reconcile now (whatever was missed while down), then post digests and reconcile on a
        schedule: no webhook starts these."""
        self._scheduled = asyncio.create_task(self.scheduler.run(), name="scheduler")

    async def close(self) -> None:
        """Stop now; deliveries in progress stay pending in the journal and resume on the next start."""
        if self._scheduled is not None:
            self._scheduled.cancel()
            await asyncio.gather(self._scheduled, return_exceptions=True)
        await self.worker.stop()
        if self.owns_github:
            await self.github.close()


def build_work_side(
    config: ServiceConfig,
    journal: WorkJournal,
    router: ComposedRouter,
    *,
    github: GitHubApp | None = None,
    clock: Callable[[], datetime] = utc_now,
    on_finished: DeliveryHook | None = None,
    on_attempt: DeliveryHook | None = None,
) -> WorkSide:
    gh_app = github or GitHubApp.create(AppCredentials(config.app_id, config.private_key), base_url=config.api_url)

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
        on_finished=on_finished,
        on_attempt=on_attempt,
    )
    scheduler = Scheduler(
        config.state_dir, job_context, clock,
        tick_seconds=config.scheduler_tick_seconds, reconcile_every=timedelta(hours=config.reconcile_every_hours),
    )
    return WorkSide(worker, scheduler, gh_app, owns_github=github is None)
