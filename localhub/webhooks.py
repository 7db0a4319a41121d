"""Webhook delivery: a background queue that POSTs signed events to the configured URL.

Acting as a person returns at once; the deliveries go out from a task, like GitHub's own
queue. Every attempt is recorded, and `settled()` waits until each queued event got an
answer, so tests can assert on what the receiver did.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from localhub.clock import Clock, RealClock
from localhub.faults import Faults
from localhub.observers import OBSERVERS, WebhookEmitted

DELIVERY_TIMEOUT = 10.0  # GitHub closes the connection after ten seconds


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    """One delivery attempt (a duplicated event gives two, sharing `guid`)."""

    id: int
    guid: str  # the X-GitHub-Delivery value
    event: str
    action: str | None
    payload: dict[str, Any]
    status_code: int | None = None  # what the receiver answered; None when dropped or failed
    error: str | None = None
    dropped: bool = False
    redelivery: bool = False
    delivered_at: float | None = None
    duration: float | None = None


@dataclass
class _Queued:
    guid: str
    event: str
    payload: dict[str, Any]
    released: bool = False  # already held once by a reorder fault


@dataclass
class WebhookSender:
    faults: Faults
    clock: Clock = field(default_factory=RealClock)  # stamps delivered_at, as the hub's own clock
    app_id: int | None = None
    url: str | None = None
    secret: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    _queue: asyncio.Queue[_Queued] = field(default_factory=asyncio.Queue)
    _held: list[_Queued] = field(default_factory=list)
    _pending: int = 0
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _session: aiohttp.ClientSession | None = None
    _task: asyncio.Task[None] | None = None
    _next_id: int = 1

    def __post_init__(self) -> None:
        self._idle.set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT))
        self._task = asyncio.create_task(self._run(), name="localhub-webhooks")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session:
            await self._session.close()

    def enqueue(self, event: str, payload: dict[str, Any]) -> str | None:
        """Queue an event for delivery; returns its GUID (None when no webhook URL is set)."""
        guid = str(uuid.uuid4())
        if OBSERVERS.webhooks:
            OBSERVERS.saw_webhook(WebhookEmitted(event, self.headers(event, guid), payload))
        if not self.url:
            return None
        self._pending += 1
        self._idle.clear()
        self._queue.put_nowait(_Queued(guid, event, payload))
        return guid

    async def settled(self, timeout: float = 10.0) -> list[Delivery]:
        """Wait until every queued event was answered (held reordered ones are released)."""
        async def drain() -> None:
            while self._pending:
                if self._held and self._pending == len(self._held) and self._queue.empty():
                    self._release_held()
                await asyncio.sleep(0.005)

        await asyncio.wait_for(drain(), timeout)
        return list(self.deliveries)

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for item in reversed(held):
            self._queue.put_nowait(item)

    async def redeliver(self, delivery_id: int) -> None:
        """Send a recorded delivery again (same GUID, marked as a redelivery)."""
        original = next(d for d in self.deliveries if d.id == delivery_id)
        self._pending += 1
        self._idle.clear()
        try:
            await self._post(_Queued(original.guid, original.event, original.payload), redelivery=True)
        finally:
            self._done()

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            fault = None if item.released else self.faults.match_webhook(item.event)
            if fault and fault.kind == "reorder":
                item.released = True
                self._held.append(item)
                if len(self._held) >= fault.times:
                    self._release_held()
                continue
            if fault and fault.kind == "drop":
                self._record(item, dropped=True)
                self._done()
                continue
            await self._post(item)
            if fault and fault.kind == "duplicate":
                await self._post(item)
            self._done()

    def _done(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()

    def _record(self, item: _Queued, **fields: Any) -> Delivery:
        delivery = Delivery(self._next_id, item.guid, item.event, item.payload.get("action"),
                            item.payload, **fields)
        self._next_id += 1
        self.deliveries.append(delivery)
        return delivery

    def headers(self, event: str, guid: str) -> dict[str, str]:
        """What a delivery carries besides its signatures."""
        return {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/localhub",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Hook-ID": "1",
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(self.app_id or 0),
        }

    async def _post(self, item: _Queued, redelivery: bool = False) -> None:
        delivery = self._record(item, redelivery=redelivery)
        assert self._session is not None and self.url is not None
        body = json.dumps(item.payload).encode()
        headers = self.headers(item.event, item.guid)
        if self.secret:
            headers["X-Hub-Signature-256"] = signature(self.secret, body)
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(self.secret.encode(), body, hashlib.sha1).hexdigest()
        started = time.monotonic()
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                await response.read()
                delivery.status_code = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            delivery.error = repr(error)
        delivery.delivered_at = self.clock.now().timestamp()
        delivery.duration = time.monotonic() - started
