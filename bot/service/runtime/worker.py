"""The worker: takes deliveries from the inbox and hands each to the composed gidgethub Router.

Deliveries share a *lane* (repository + PR number, see intake.lane_of). The inbox lets a worker
claim only the oldest pending delivery of a lane, so one PR's deliveries run one at a time and in
received order, even across instances; different lanes run at once, up to `concurrency`, so a
slow PR holds one slot and never the others. Each attempt runs under a time budget. A failed
attempt is retried with exponential backoff — still its lane's head, so later events for that PR
do not overtake it — up to `max_attempts`, then marked failed. Whatever was in progress when the
service stopped or died is still pending in the inbox and is claimed again.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from gidgethub.sansio import Event

from bot.service.runtime.handler_context import Context, PermanentFailure
from bot.service.runtime.pull_locks import working_with
from bot.service.runtime.routing import ComposedRouter
from bot.store.database import StateFiles
from bot.store.inbox import Delivery, Inbox

log = logging.getLogger("bot.service.runtime.worker")

ContextFactory = Callable[[Delivery, logging.LoggerAdapter[Any]], Context]
AfterDispatch = Callable[[Delivery, Context], Awaitable[None]]


class DeliveryLog(logging.LoggerAdapter[logging.Logger]):
    """`ctx.log`: every line a handler logs names its delivery."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return f"[{self.extra['delivery_id']}] {msg}", kwargs  # type: ignore[index]  # always built with extra={"delivery_id": ...}


class Worker:
    def __init__(
        self,
        inbox: Inbox,
        router: ComposedRouter,
        make_context: ContextFactory,
        *,
        concurrency: int = 8,
        max_attempts: int = 5,
        retry_base_seconds: float = 2.0,
        retry_max_seconds: float = 300.0,
        budget_seconds: float = 120.0,
        poll_seconds: float = 1.0,
        after_dispatch: AfterDispatch | None = None,
        state_files: StateFiles | None = None,
    ) -> None:
        self._inbox = inbox
        self._router = router
        self._make_context = make_context
        self._concurrency = concurrency
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._retry_max = retry_max_seconds
        self._budget = budget_seconds
        self._poll = poll_seconds  # how often to look for retries that are due and other instances' leftovers
        self._after_dispatch = after_dispatch  # part of the attempt: if it fails, the delivery is retried
        self._state_files = state_files  # with PostgreSQL: PR locks sync the PR's files (locks.py)
        self._running: dict[str, asyncio.Task[None]] = {}  # lane -> its delivery in progress here
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self.outcomes: dict[str, int] = {"done": 0, "failed": 0, "retried": 0}

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._claim_loop(), name="worker")

    def wake(self) -> None:
        """Something new is in the inbox (the intake just recorded it)."""
        self._idle.clear()
        self._wake.set()

    @property
    def busy(self) -> bool:
        return bool(self._running)

    async def join(self) -> None:
        """Wait until nothing is claimable or running here (pending retries included) — tests, the bench."""
        while True:
            self._idle.clear()
            self._wake.set()
            await self._idle.wait()
            if not self._running:
                return

    async def stop(self) -> None:
        """Stop now; what is in progress stays pending in the inbox and is claimed again later."""
        tasks = [task for task in (self._loop_task, *self._running.values()) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _claim_loop(self) -> None:
        last_beat = 0.0
        while True:
            self._wake.clear()
            try:
                if time.monotonic() - last_beat >= self._inbox.takeover_after / 3:
                    await self._inbox.heartbeat()
                    last_beat = time.monotonic()
                free = self._concurrency - len(self._running)
                claimed = await self._inbox.claim(skip_lanes=set(self._running), limit=free) if free > 0 else []
            except asyncio.CancelledError:
                raise
            except Exception:  # the database had a bad moment: look again soon
                log.exception("could not claim deliveries from the inbox")
                claimed = []
            for delivery in claimed:
                task = asyncio.create_task(self._handle(delivery), name=f"lane:{delivery.lane}")
                self._running[delivery.lane] = task
            if claimed:
                continue  # more may be claimable right away
            timeout = await self._until_next_look()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns a wake that lands in
            # the same turn as a cancel and drops the cancel, so `stop()` would wait forever.
            with suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _until_next_look(self) -> float:
        """Seconds to sleep unless woken: until a retry is due, at most `poll_seconds`. (A
        delivery that is due but was not claimable waits behind its lane, whose end wakes us.)"""
        try:
            due = await self._inbox.next_due()
        except Exception:  # noqa: BLE001 - logged by the next claim, if it persists
            return self._poll
        # A wake since this look began (a delivery recorded, a join) may mean the inbox answer
        # above is stale: look again instead of declaring the worker idle.
        if due is None and not self._running and not self._wake.is_set():
            self._idle.set()
        if due is None or due <= time.time():
            return self._poll
        return min(self._poll, max(0.005, due - time.time()))

    async def _handle(self, delivery: Delivery) -> None:
        try:
            if delivery.attempts > self._max_attempts:  # its process died during every attempt
                await self._inbox.mark_failed(delivery.delivery_id, "the service stopped while handling it, every attempt")
                log.error("delivery %s failed: the service stopped during each of its %d attempts",
                          delivery.delivery_id, self._max_attempts)
            else:
                with working_with(self._state_files):
                    await self._attempt(delivery)
        except asyncio.CancelledError:
            raise  # stopping: it stays pending and is claimed again
        except Exception:  # e.g. the inbox failed to mark it: it stays claimed until takeover
            log.exception("delivery %s left pending after an internal error", delivery.delivery_id)
        finally:
            self._running.pop(delivery.lane, None)
            self._wake.set()  # its lane's next delivery may be waiting

    async def _attempt(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        delivery_log = DeliveryLog(logging.getLogger("bot.service.handlers"), {"delivery_id": delivery.delivery_id})
        ctx: Context | None = None
        attempt = delivery.attempts
        try:
            try:
                data = json.loads(delivery.body)
            except ValueError as error:  # accepted, yet unreadable: retrying cannot help
                raise PermanentFailure(f"the recorded body does not parse: {error}") from error
            event = Event(data, event=delivery.event, delivery_id=delivery.delivery_id)
            ctx = self._make_context(delivery, delivery_log)
            async with asyncio.timeout(self._budget):
                await self._router.router.dispatch(event, ctx)
                if self._after_dispatch is not None:
                    await self._after_dispatch(delivery, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a handler's failure is the delivery's outcome
            if isinstance(error, TimeoutError):
                description = f"over its time budget of {self._budget:.0f}s"
            else:
                description = f"{type(error).__name__}: {error}"
            if isinstance(error, PermanentFailure) or attempt >= self._max_attempts:
                await self._inbox.mark_failed(delivery.delivery_id, description)
                self.outcomes["failed"] += 1
                self._log_outcome(delivery, ctx, "failed", attempt, started, description, exc_info=True)
            else:
                delay = min(self._retry_max, self._retry_base * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)
                await self._inbox.retry_later(delivery.delivery_id, description, delay)
                self.outcomes["retried"] += 1
                self._log_outcome(delivery, ctx, f"retry in {delay:.1f}s", attempt, started, description)
            return
        await self._inbox.mark_done(delivery.delivery_id)
        self.outcomes["done"] += 1
        self._log_outcome(delivery, ctx, "done", attempt, started)

    @staticmethod
    def _log_outcome(
        delivery: Delivery, ctx: Context | None, outcome: str, attempt: int, started: float,
        error: str | None = None, exc_info: bool = False,
    ) -> None:
        remaining = ctx.gh.rate_limit_remaining if ctx is not None and ctx.gh is not None else None
        action = f".{delivery.action}" if delivery.action else ""
        log.log(
            logging.ERROR if outcome == "failed" else logging.INFO,
            "delivery %s %s%s repo=%s outcome=%s attempt=%d in %.0fms rate_limit_remaining=%s%s",
            delivery.delivery_id, delivery.event, action, delivery.repo or "-", outcome, attempt,
            (time.perf_counter() - started) * 1000, "-" if remaining is None else remaining,
            f" error={error}" if error else "",
            exc_info=exc_info,
        )
