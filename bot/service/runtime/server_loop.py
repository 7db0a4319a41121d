"""`serve`'s server loop: the app on a TCP port, a bounded number of connections, and a prompt stop.

aiohttp's `run_app` waits up to a minute for requests in progress and has no limit on open
connections, so a flood of stalled clients could take every file descriptor. Here:

  * at most `max_connections` are open at once (kept below the process's file limit); at the
    limit, the connection quiet the longest makes room, or if all are busy the new one is reset
    (refusals are logged as one line every few seconds);
  * a connection that sends nothing for `idle_seconds` is closed (a stalled header or body, an
    idle keep-alive), so stalled clients free their slot;
  * SIGTERM or SIGINT stops listening, gives requests in progress `grace_seconds`, stops the
    worker (what it was doing stays pending in the inbox) and returns, all within STOP_BOUND.
"""
from __future__ import annotations

import asyncio
import logging
import resource
import signal
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from aiohttp import web

log = logging.getLogger("bot.service.runtime.server_loop")

STOP_BOUND_SECONDS = 8.0  # SIGTERM to exit; platforms send SIGKILL after 10 s or more
_FD_HEADROOM = 64  # descriptors kept for the inbox, GitHub calls and logs
_REFUSAL_LOG_EVERY = 10.0


def connection_limit(wanted: int) -> int:
    """`wanted`, or fewer if the file limit (raised to its hard maximum first) is too low for it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        with suppress(ValueError, OSError):
            target = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
            soft = max(soft, target)
    return max(8, min(wanted, soft - _FD_HEADROOM))


class _Gate:
    """Counts open connections, refuses those over the limit, closes the idle ones."""

    def __init__(self, limit: int, idle_seconds: float) -> None:
        self.limit = limit
        self.idle_seconds = idle_seconds
        self.open: set[_Counted] = set()
        self._refused = 0
        self._refusals_logged_at = 0.0

    def make_room(self) -> bool:
        """At the limit: close the connection quiet the longest, if it has been quiet a while,
        so stalled clients cannot lock out GitHub or /health. False: every one is busy."""
        quietest = min(self.open, key=lambda connection: connection.last_seen)
        if time.monotonic() - quietest.last_seen < 1.0:
            return False
        quietest.abort()
        self.open.discard(quietest)
        return True

    def refuse(self) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._refusals_logged_at >= _REFUSAL_LOG_EVERY:
            log.warning("%d connections refused: %d already open (the limit)", self._refused, self.limit)
            self._refused, self._refusals_logged_at = 0, now

    async def sweep(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_seconds / 4))
            quiet_since = time.monotonic() - self.idle_seconds
            for connection in [c for c in self.open if c.last_seen < quiet_since]:
                connection.abort()

    def abort_all(self) -> None:
        for connection in list(self.open):
            connection.abort()


class _Counted(asyncio.Protocol):
    """aiohttp's protocol for one connection, behind the gate."""

    def __init__(self, inner: asyncio.Protocol, gate: _Gate) -> None:
        self._inner = inner
        self._gate = gate
        self._transport: asyncio.Transport | None = None
        self.last_seen = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if len(self._gate.open) >= self._gate.limit and not self._gate.make_room():
            self._gate.refuse()
            transport.abort()  # type: ignore[attr-defined]  # a TCP server hands over an asyncio.Transport
            return
        self._transport = transport  # type: ignore[assignment]  # as above
        self._gate.open.add(self)
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is None:
            return  # refused: aiohttp never saw it
        self._gate.open.discard(self)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.last_seen = time.monotonic()
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


async def serve(
    app: web.Application, host: str, port: int, *, max_connections: int, idle_seconds: float = 15.0,
    grace_seconds: float = 3.0, on_listening: Callable[[str, int], None] | None = None,
) -> None:
    """Run `app` until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=grace_seconds,
                           keepalive_timeout=idle_seconds, lingering_time=1.0)
    gate = _Gate(max_connections, idle_seconds)
    server: asyncio.base_events.Server | None = None
    sweeper: asyncio.Task[None] | None = None
    try:
        # Start-up (opening the inbox) may itself be what a SIGTERM interrupts.
        if not await _unless_stopped(runner.setup(), stopping):
            return
        server = await loop.create_server(lambda: _Counted(runner.server(), gate), host, port, backlog=128)  # type: ignore[misc]  # aiohttp types server() as Optional; set up above
        sweeper = asyncio.create_task(gate.sweep(), name="idle-connections")
        bound = server.sockets[0].getsockname()
        log.info("serving on http://%s:%d (at most %d connections)", bound[0], bound[1], gate.limit)
        if on_listening is not None:
            on_listening(bound[0], bound[1])
        await stopping.wait()
        log.info("stopping")
    finally:
        if server is not None:
            server.close()  # no new connections
        try:
            await asyncio.wait_for(runner.cleanup(), STOP_BOUND_SECONDS - 1.0)
        except (TimeoutError, Exception):  # noqa: BLE001 - stopping regardless; the inbox keeps the work
            log.warning("the service did not stop cleanly in time; pending deliveries resume at the next start", exc_info=False)
        if sweeper is not None:
            sweeper.cancel()
        gate.abort_all()


async def _unless_stopped(work: Any, stopping: asyncio.Event) -> bool:
    """Await `work`; False (and `work` cancelled) if a stop came first."""
    task = asyncio.ensure_future(work)
    stop = asyncio.create_task(stopping.wait())
    await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False
