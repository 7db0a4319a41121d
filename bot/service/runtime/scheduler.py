"""Work no webhook starts: the weekly digest, and reconciling PRs with GitHub.

Runs inside the service. On start it reconciles every tracked PR once (whatever was missed
while the service was down); then, every tick, it posts digests that are due and
reconciles each PR again every `reconcile_every`. A canonical repository with a `family:` gets
the family digest (service/features/family_digest_posting.py) instead of its PR's own. Each PR's work is its own: one failure
is logged and the others go on.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.core.digest_schedule import digest_due
from bot.service.features import records_branch
from bot.service.features.digest_posting import post_weekly_digest
from bot.service.features.family_digest_posting import post_family_digest
from bot.service.features.reconcile import reconcile_pull
from bot.service.features.replies import settings_or_report
from bot.service.runtime.handler_context import Context
from bot.service.runtime.pull_locks import pull_lock, working_with
from bot.store.database import StateFiles
from bot.store.pull_state import load_pull_state, tracked_pulls

log = logging.getLogger(__name__)

ContextFactory = Callable[[str, int, str], Context]  # (repo, installation id, job name) -> Context


@dataclass
class Scheduler:
    state_dir: Path
    context_for: ContextFactory
    clock: Callable[[], datetime]
    tick_seconds: float = 300.0
    reconcile_every: timedelta = timedelta(hours=6)
    state_files: StateFiles | None = None  # with PostgreSQL: PRs other instances started are pulled each tick
    _last_reconcile: dict[tuple[str, int], datetime] = field(default_factory=dict)

    async def run(self) -> None:
        """Until cancelled: reconcile everything once, then tick."""
        await self.tick(reconcile_all=True)
        while True:
            await asyncio.sleep(self.tick_seconds)
            await self.tick()

    async def tick(self, *, reconcile_all: bool = False) -> None:
        with working_with(self.state_files):
            if self.state_files is not None:
                await self.state_files.pull()
            await self._tick(reconcile_all=reconcile_all)

    async def _tick(self, *, reconcile_all: bool) -> None:
        now = self.clock()
        for repo, number in tracked_pulls(self.state_dir):
            try:
                state = load_pull_state(self.state_dir, repo, number)
            except (OSError, ValueError):  # one unreadable PR must not stop the scheduler
                log.exception("cannot read the state of %s#%s; skipped", repo, number)
                continue
            if state.installation_id is None or state.closed:
                continue
            last = self._last_reconcile.get((repo, number))
            due = reconcile_all or last is None or now - last >= self.reconcile_every
            if due or state.needs_reconcile:
                await self._guarded(repo, number, state.installation_id, "reconcile", lambda ctx: reconcile_pull(ctx, number))  # noqa: B023 - awaited before the loop moves on
                self._last_reconcile[(repo, number)] = now
            await self._guarded(repo, number, state.installation_id, "digest", lambda ctx: self._digest_if_due(ctx, number, now))  # noqa: B023 - awaited before the loop moves on

    async def _digest_if_due(self, ctx: Context, number: int, now: datetime) -> None:
        settings = await settings_or_report(ctx, number)
        if settings is None:
            return
        week = digest_due(settings.digest.day, settings.digest.time, settings.digest.timezone, now)
        state = load_pull_state(self.state_dir, ctx.repo or "", number)
        if week is None or state.last_digest_week == week:
            return
        if settings.family.enabled:  # the family digest carries this PR's section: one comment, not two
            await post_family_digest(ctx, number, now, week=week)
        else:
            await post_weekly_digest(ctx, number, now, week=week)

    async def _guarded(self, repo: str, number: int, installation_id: int, job: str, work: Callable[[Context], Awaitable[object]]) -> None:
        ctx = self.context_for(repo, installation_id, f"{job}:{repo}#{number}:{self.clock().isoformat()}")
        try:
            async with pull_lock(repo, number):  # the worker may be handling this PR right now
                await work(ctx)
            await records_branch.after_work(ctx, number, scheduled=True)  # takes the lock itself
        except asyncio.CancelledError:
            raise
        except Exception:  # one PR's failure must not stop the others; the next tick retries
            log.exception("%s for %s#%s failed; will retry next tick", job, repo, number)
