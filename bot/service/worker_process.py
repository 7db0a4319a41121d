"""The worker in a process of its own: the web process acks, the worker process works.

Why: both used to share one event loop, and a delivery's work (parse the whole payload, call
GitHub, write records) costs more CPU than its ack. Under a burst the work took the loop from
the acks, whatever the worker deferred. In its own process, at a lower scheduling priority
(`worker_nice`), the work gets the CPU the acks leave. bench/webhook.py measures the difference.

The web process keeps the journal (the single writer) and supervises the worker process:

  * at every (re)start it sends the journal's unfinished deliveries in received order, then the
    ones that arrived meanwhile, then each new delivery as the intake journals it;
  * the worker process calls back for the journal (worker_link.JournalLink) and reports each
    delivery it is finished with, so the web process knows when it is busy;
  * if the worker process dies, it is started again (backing off while it keeps dying) and
    resumes from the journal: whatever it was doing is still pending there. Handlers are
    idempotent (Context.once), as they already must be for retries.

The worker process is started with `spawn` (a fresh interpreter; forking a running event loop is
unsafe), so the router is named by a module-level factory that the child can import.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
from collections import deque
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any

from bot.service.config import LOG_FORMAT, ServiceConfig
from bot.service.journal import PENDING, Delivery, Journal, NewDelivery
from bot.service.routing import ComposedRouter
from bot.service.worker_link import (
    Finished,
    JournalLink,
    LinkBroken,
    MarkAttemptFailed,
    Once,
    Reply,
    Started,
    Work,
    receive,
    send,
)

log = logging.getLogger("bot.service.worker_process")

RouterFactory = Callable[[], ComposedRouter]
_STOP_GRACE_SECONDS = 10.0
_SIGTERM_GRACE_SECONDS = 5.0
_LINK_BUFFER_BYTES = 1024 * 1024
_HEALTHY_AFTER_SECONDS = 60.0  # a worker process that lived this long resets the restart backoff


class WorkerProcess:
    """The web process's handle on its worker process (app.py, when `config.worker_process`)."""

    def __init__(
        self, config: ServiceConfig, journal: Journal, router_factory: RouterFactory,
        *, restart_base_seconds: float = 1.0, restart_max_seconds: float = 60.0,
    ) -> None:
        self._config = config
        self._journal = journal
        self._router_factory = router_factory
        self._restart_base = restart_base_seconds
        self._restart_max = restart_max_seconds
        self._writer: asyncio.StreamWriter | None = None  # set while a worker process is linked and resumed
        # Not yet sent, in received order. Sent as the link takes them (_pump): a backlog piled
        # into the socket's write buffer instead would be copied again on every write.
        self._outbox: deque[NewDelivery] = deque()
        self._outbox_filled = asyncio.Event()
        self._outstanding: set[str] = set()  # in the outbox or sent, and not yet reported finished
        self._done: list[str] = []  # reported done, to be marked in the journal
        self._background: set[asyncio.Task[None]] = set()
        self._in_progress: set[str] = set()  # an attempt under way in the worker process
        self._pump_task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self.restarts = 0

    # ---- what the intake and /health use ------------------------------------------------------

    def submit_new(self, delivery: NewDelivery) -> None:
        self._outstanding.add(delivery.delivery_id)
        self._idle.clear()
        self._outbox.append(delivery)
        self._outbox_filled.set()

    @property
    def busy(self) -> bool:
        return bool(self._outstanding)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._writer is not None and self._process is not None and self._process.is_alive()

    async def join(self) -> None:
        """Wait until every delivery sent so far is finished (tests, the bench)."""
        while self.busy:
            self._idle.clear()  # busy is not idle: never a wait that returns at once, in a loop
            await self._idle.wait()

    # ---- lifetime ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise(), name="worker-process")

    async def stop(self) -> None:
        """Ask the worker process to stop, hear out what it finished meanwhile, then end it.

        The link is half-closed: the worker process sees its end, stops its worker (whatever is
        in progress stays pending) and closes its side after its last reports, which are read
        and marked, so a clean stop makes nothing run twice."""
        self._stopping.set()
        if self._writer is not None:
            self._half_close(self._writer)
        if self._supervisor is not None:
            await asyncio.wait([self._supervisor])  # (a caller's own cancellation still reaches it)
        # Marks and answers under way finish while the journal is still open.
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _supervise(self) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            started = loop.time()
            try:
                code = await self._run_once()
            except Exception:  # the supervisor must outlive any one worker process
                log.exception("the worker process failed")
                code = None
            if self._stopping.is_set():
                return
            await self._count_attempts_cut_short()
            failures = 0 if loop.time() - started >= _HEALTHY_AFTER_SECONDS else failures + 1
            delay = min(self._restart_max, self._restart_base * 2 ** max(0, failures - 1))
            log.error("the worker process ended (exit code %s); starting another in %.0f s; "
                      "unfinished deliveries stay in the journal", code, delay)
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if not self._stopping.is_set():
                self.restarts += 1

    async def _run_once(self) -> int | None:
        """Start a worker process, feed it until the link breaks, and wait for it to end."""
        ours, theirs = socket.socketpair()
        context = multiprocessing.get_context("spawn")
        process = context.Process(
            target=run_worker_process, name="bot-worker", daemon=True,
            args=(self._config, theirs, self._router_factory, logging.getLogger().getEffectiveLevel()),
        )
        try:
            process.start()
        finally:
            theirs.close()
        self._process = process
        reader, writer = await asyncio.open_unix_connection(sock=ours, limit=2**16)
        serving: asyncio.Task[None] | None = None
        try:
            await self._resume()
            self._writer = writer
            self._pump_task = asyncio.create_task(self._pump(writer), name="worker-process-pump")
            self._pump_task.add_done_callback(lambda task: self._pump_ended(task, writer))
            if self._stopping.is_set():  # stop() came while this one was starting
                self._half_close(writer)
            serving = asyncio.create_task(self._serve(reader, writer), name="worker-process-link")
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait([serving, stopping], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not serving.done():  # stopping: hear out its last reports, for a while
                await asyncio.wait([serving], timeout=_STOP_GRACE_SECONDS)
            await serving  # raises LinkBroken at the end of the stream (or CancelledError below)
        except LinkBroken as error:
            if not self._stopping.is_set():
                log.error("lost the worker process: %s", error)
        finally:
            self._writer = None
            if serving is not None and not serving.done():
                serving.cancel()
                await asyncio.gather(serving, return_exceptions=True)
            if self._pump_task is not None:
                self._pump_task.cancel()
                await asyncio.gather(self._pump_task, return_exceptions=True)
                self._pump_task = None
            writer.close()
            code = await self._reap(process)
        return code

    def _half_close(self, writer: asyncio.StreamWriter) -> None:
        """No more work for the worker process; its reports still come back."""
        if self._pump_task is not None:
            self._pump_task.cancel()  # nothing may be written after the end of the stream
        if not writer.is_closing() and writer.can_write_eof():
            writer.write_eof()

    def _pump_ended(self, task: asyncio.Task[None], writer: asyncio.StreamWriter) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("feeding the worker process failed; starting another", exc_info=task.exception())
            writer.transport.abort()  # the link breaks, and the supervisor starts another

    async def _pump(self, writer: asyncio.StreamWriter) -> None:
        """Send the outbox in order, never more than the link's buffer limit ahead of the reader."""
        writer.transport.set_write_buffer_limits(high=_LINK_BUFFER_BYTES)  # pauses above it
        while True:
            while not self._outbox:
                self._outbox_filled.clear()
                await self._outbox_filled.wait()
            while self._outbox:
                send(writer, Work.of(self._outbox.popleft()))
                # Over the limit, the transport has paused us: drain() waits until the worker
                # process has read enough. (At or under it, drain() would return at once.)
                if writer.transport.get_write_buffer_size() > _LINK_BUFFER_BYTES:
                    await writer.drain()

    async def _count_attempts_cut_short(self) -> None:
        """The worker process died while handling these: count the attempt, so a delivery that
        takes its process down (out of memory, a crash in C) fails after max_attempts instead
        of going first into every new one."""
        cut_short, self._in_progress = self._in_progress, set()
        for delivery_id in cut_short:
            try:
                delivery = await self._journal.get(delivery_id)
                if delivery is None or delivery.state != PENDING:
                    continue
                final = delivery.attempts + 1 >= self._config.max_attempts
                await self._journal.mark_attempt_failed(delivery_id, "the worker process died while handling it", final=final)
                if final:
                    log.error("delivery %s failed: the worker process died %d times while handling it",
                              delivery_id, delivery.attempts + 1)
            except Exception:  # it stays pending, as before
                log.exception("could not count the attempt cut short on delivery %s", delivery_id)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer the worker process's journal calls and note what it finished, until the link breaks."""
        while True:
            message = await receive(reader)
            if isinstance(message, Started):
                self._in_progress.add(message.delivery_id)
            elif isinstance(message, Finished):
                self._in_progress.discard(message.delivery_id)
                if message.done:
                    self._mark_done_soon(message.delivery_id)
                else:
                    self._finished(message.delivery_id)
            elif isinstance(message, (Once, MarkAttemptFailed)):
                if isinstance(message, MarkAttemptFailed):
                    self._in_progress.discard(message.delivery_id)  # counted by the worker itself
                self._in_background(self._answer(message, writer))
            else:
                raise LinkBroken(f"unexpected {type(message).__name__} from the worker process")

    async def _resume(self) -> None:
        """A new worker process starts from the journal: its unfinished deliveries first
        (received order), then any the journal did not show yet. What the last one was doing is
        among them; what it finished is not."""
        # The last one's done marks and journal answers first, so what it finished is not resent.
        await asyncio.gather(*list(self._background), return_exceptions=True)
        unfinished = await self._journal.unfinished()
        known = {delivery.delivery_id for delivery in unfinished}
        newer = [delivery for delivery in self._outbox if delivery.delivery_id not in known]
        self._outbox = deque([*unfinished, *newer])
        self._outstanding = {delivery.delivery_id for delivery in self._outbox}
        self._outbox_filled.set()
        self._settle_idle()
        if unfinished:
            log.info("worker process started; resuming %d unfinished deliveries", len(unfinished))

    def _mark_done_soon(self, delivery_id: str) -> None:
        """Marks gather into one journal write that shares the next commit (Journal.mark_done)."""
        self._done.append(delivery_id)
        if len(self._done) == 1:
            self._in_background(self._mark_gathered_done())

    async def _mark_gathered_done(self) -> None:
        await asyncio.sleep(0)  # let the marks that arrived with this one join it
        done, self._done = self._done, []
        try:
            await self._journal.mark_done(*done, soon=True)
        except Exception:  # they stay pending, and run again on the next start
            log.exception("%d handled deliveries could not be marked done", len(done))
        for delivery_id in done:
            self._finished(delivery_id)

    async def _answer(self, call: Once | MarkAttemptFailed, writer: asyncio.StreamWriter) -> None:
        try:
            if isinstance(call, Once):
                reply = Reply(call.call, value=await self._journal.once(call.key, call.delivery_id))
            else:
                attempts = await self._journal.mark_attempt_failed(call.delivery_id, call.error, final=call.final)
                reply = Reply(call.call, value=attempts)
        except Exception as error:  # noqa: BLE001 - the worker decides what a failed call means
            reply = Reply(call.call, error=f"{type(error).__name__}: {error}")
        if not writer.is_closing():
            send(writer, reply)

    async def _reap(self, process: multiprocessing.process.BaseProcess) -> int | None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, process.join, _STOP_GRACE_SECONDS)
        if process.is_alive():
            log.warning("the worker process did not stop within %.0f s; killing it", _STOP_GRACE_SECONDS)
            process.kill()
            await loop.run_in_executor(None, process.join)
        return process.exitcode

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._background.discard)

    def _finished(self, delivery_id: str) -> None:
        self._outstanding.discard(delivery_id)
        self._settle_idle()

    def _settle_idle(self) -> None:
        if self.busy:
            self._idle.clear()
        else:
            self._idle.set()


# ---- the worker process itself ---------------------------------------------------------------


def run_worker_process(config: ServiceConfig, link: socket.socket, router_factory: RouterFactory, log_level: int) -> None:
    """Entry point of the worker process (spawned by WorkerProcess)."""
    # Ctrl-C reaches every process: the web process decides when the work stops (it closes the
    # link, and ends this process if it does not stop in time). SIGTERM: see below.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    if config.worker_nice:
        try:
            os.nice(config.worker_nice)  # acks first: the web process gets the CPU when both want it
        except OSError as error:
            log.warning("could not lower the worker process's priority: %s", error)
    asyncio.run(_work_until_unlinked(config, link, router_factory))


async def _work_until_unlinked(config: ServiceConfig, link: socket.socket, router_factory: RouterFactory) -> None:
    # Imported here, not at the top: the web process never needs the work side.
    from bot.service.work import build_work_side

    reader, writer = await asyncio.open_unix_connection(sock=link, limit=2**16)
    journal = JournalLink(writer)
    work = build_work_side(config, journal, router_factory(), on_finished=journal.finished, on_attempt=journal.started)
    if config.scheduler_enabled:
        work.start_scheduler()
    reading = asyncio.create_task(_read(reader, work.worker.submit, journal))
    # A SIGTERM of its own (the platform's, to every process) waits for the web process to close
    # the link; one that is not followed by that (multiprocessing at exit) stops it after a while.
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: loop.call_later(_SIGTERM_GRACE_SECONDS, reading.cancel))
    try:
        await asyncio.gather(reading, return_exceptions=True)  # until the link closes
    finally:
        await work.close()  # deliveries in progress stay pending in the journal
        journal.break_off("the worker process is stopping")
        writer.close()


async def _read(reader: asyncio.StreamReader, submit: Callable[[Delivery], None], journal: JournalLink) -> None:
    try:
        while True:
            message = await receive(reader)
            if isinstance(message, Work):
                submit(message.delivery())
            elif isinstance(message, Reply):
                journal.answer(message)
            else:
                raise LinkBroken(f"unexpected {type(message).__name__} from the web process")
    except LinkBroken as error:
        # The web process closed the link (stopping) or went away. The caller stops the worker
        # before the journal calls still waiting are failed, so none of them is counted as a
        # failed attempt.
        log.info("worker process stopping: %s", error)
