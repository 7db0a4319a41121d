"""The background worker: drains journalled deliveries through the composed router.

Deliveries share a *lane* (repository + PR number, see intake.lane_of): one lane is handled one
delivery at a time, in received order, so two deliveries for one PR never race; different lanes
run concurrently, at most `concurrency` at once. A failing delivery is retried with exponential
backoff — holding its lane, so later events for that PR do not overtake it — up to
`max_attempts`, then marked failed. Anything still pending at startup is resumed.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from gidgethub.sansio import Event

from bot.service import envelope
from bot.service.context import Context, PermanentFailure
from bot.service.journal import PENDING, Delivery, NewDelivery, WorkJournal
from bot.service.routing import ComposedRouter

log = logging.getLogger("bot.service.worker")

ContextFactory = Callable[[Delivery, logging.LoggerAdapter[Any]], Context]
AfterDispatch = Callable[[Delivery, Context], Awaitable[None]]
DeliveryHook = Callable[[Delivery], None]


class DeliveryLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """`ctx.log`: every line a handler logs names its delivery."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return f"[{self.extra['delivery_id']}] {msg}", kwargs  # type: ignore[index]


class AckFirst:
    """Acks before work: the intake counts requests in progress, the worker defers to them.

    Both share one event loop, and a delivery's ack has a deadline (GitHub gives up after 10 s)
    while its work has none. So before each attempt the worker waits — at most `max_defer`
    seconds, so it always progresses under sustained load — until no request is in progress.
    """

    def __init__(self, max_defer: float = 0.05) -> None:
        self.max_defer = max_defer
        self.in_flight = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def enter(self) -> None:
        self.in_flight += 1
        self._quiet.clear()

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight <= 0:
            self.in_flight = 0
            self._quiet.set()

    async def wait_quiet(self) -> None:
        if self.in_flight:
            try:
                await asyncio.wait_for(self._quiet.wait(), self.max_defer)
            except asyncio.TimeoutError:
                pass


class Worker:
    def __init__(
        self,
        journal: WorkJournal,
        router: ComposedRouter,
        make_context: ContextFactory,
        *,
        concurrency: int = 8,
        max_attempts: int = 5,
        retry_base_seconds: float = 2.0,
        retry_max_seconds: float = 300.0,
        ack_first: AckFirst | None = None,
        after_dispatch: AfterDispatch | None = None,
        on_finished: DeliveryHook | None = None,
        on_attempt: DeliveryHook | None = None,
    ) -> None:
        self._journal = journal
        self._router = router
        self._make_context = make_context
        self._slots = asyncio.Semaphore(concurrency)
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._retry_max = retry_max_seconds
        self._lanes: dict[str, deque[Delivery]] = {}
        self._drainers: dict[str, asyncio.Task[None]] = {}
        self._queued: set[str] = set()  # delivery ids queued or in progress, so nothing runs twice
        self._stopping = False
        self.ack_first = ack_first or AckFirst()
        self._after_dispatch = after_dispatch  # part of the attempt: if it fails, the delivery is retried
        self._on_finished = on_finished  # told when a delivery leaves the worker (done, failed or left pending)
        self._on_attempt = on_attempt  # told when an attempt at a delivery begins
        self.outcomes: dict[str, int] = {"done": 0, "failed": 0, "retried": 0}

    def resume(self, unfinished: list[Delivery]) -> int:
        """Queue the journal's unfinished deliveries (received order). Returns how many."""
        for delivery in unfinished:
            self.submit(delivery)
        if unfinished:
            log.info("resuming %d unfinished deliveries", len(unfinished))
        return len(unfinished)

    def submit_new(self, delivery: NewDelivery) -> None:
        """Queue a delivery the intake has just journalled.

        (Its body is parsed again when its turn comes. Handing the intake's parsed mapping over
        instead was measured: a backlog of parsed payloads made garbage collections longer and
        acks slower, for a parse the worker does when acks are not waiting — see AckFirst.)
        """
        self.submit(Delivery(**vars(delivery), seq=0, state=PENDING, attempts=0, last_error=None))

    def submit(self, delivery: Delivery) -> None:
        if self._stopping or delivery.delivery_id in self._queued:
            return
        self._queued.add(delivery.delivery_id)
        self._lanes.setdefault(delivery.lane, deque()).append(delivery)
        if delivery.lane not in self._drainers:
            self._drainers[delivery.lane] = asyncio.create_task(self._drain(delivery.lane), name=f"lane:{delivery.lane}")

    @property
    def busy(self) -> bool:
        return bool(self._drainers)

    async def join(self) -> None:
        """Wait until every queued delivery is finished (done or failed) — for tests and the bench."""
        while self._drainers:
            await asyncio.gather(*list(self._drainers.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Stop now; whatever is in progress stays pending in the journal and resumes next start."""
        self._stopping = True
        tasks = list(self._drainers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _drain(self, lane: str) -> None:
        queue = self._lanes[lane]
        try:
            while queue:
                delivery = queue[0]
                try:
                    await self._run_to_completion(delivery)
                except Exception:  # noqa: BLE001 - e.g. the journal itself failed
                    # It is still pending in the journal, so the next start resumes it; looping
                    # on it here would spin while the disk is unhappy.
                    log.exception("delivery %s left pending after an internal error", delivery.delivery_id)
                queue.popleft()
                self._queued.discard(delivery.delivery_id)
                if self._on_finished is not None:
                    self._on_finished(delivery)
        finally:
            self._lanes.pop(lane, None)
            self._drainers.pop(lane, None)

    async def _run_to_completion(self, delivery: Delivery) -> None:
        attempt = delivery.attempts
        while True:
            attempt += 1
            await self.ack_first.wait_quiet()
            async with self._slots:
                if self._on_attempt is not None:
                    self._on_attempt(delivery)
                outcome, error = await self._attempt(delivery, attempt)
            if outcome != "retry":
                return
            delay = min(self._retry_max, self._retry_base * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)
            log.warning("delivery %s attempt %d failed (%s); retrying in %.1fs", delivery.delivery_id, attempt, error, delay)
            await asyncio.sleep(delay)

    async def _attempt(self, delivery: Delivery, attempt: int) -> tuple[str, str | None]:
        started = time.perf_counter()
        delivery_log = DeliveryLog(logging.getLogger("bot.service.handlers"), {"delivery_id": delivery.delivery_id})
        ctx: Context | None = None
        try:
            try:
                data = envelope.parse(delivery.body)
            except (ValueError, RecursionError) as error:  # accepted, yet unreadable: retrying cannot help
                raise PermanentFailure(f"the journalled body does not parse: {error}") from error
            event = Event(data, event=delivery.event, delivery_id=delivery.delivery_id)
            ctx = self._make_context(delivery, delivery_log)
            await self._router.router.dispatch(event, ctx)
            if self._after_dispatch is not None:
                await self._after_dispatch(delivery, ctx)
        except asyncio.CancelledError:
            raise  # shutting down: the delivery stays pending and resumes on the next start
        except Exception as error:  # noqa: BLE001 - a handler's failure is the delivery's outcome
            final = isinstance(error, PermanentFailure) or attempt >= self._max_attempts
            description = f"{type(error).__name__}: {error}"
            await self._journal.mark_attempt_failed(delivery.delivery_id, description, final=final)
            outcome = "failed" if final else "retry"
            self.outcomes["failed" if final else "retried"] += 1
            self._log_outcome(delivery, ctx, outcome, attempt, started, description, exc_info=final)
            return outcome, description
        await self._journal.mark_done(delivery.delivery_id)
        self.outcomes["done"] += 1
        self._log_outcome(delivery, ctx, "done", attempt, started)
        return "done", None

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
