"""POST /webhook: verify, journal, answer — in that order, and nothing slower.

1. size: Content-Length over the cap → 413 before reading; the read itself is capped too;
2. signature: X-Hub-Signature-256 (HMAC-SHA256 of the raw body, constant-time compare via
   gidgethub.sansio.validate_event) checked *before* the body is parsed → 401;
3. an event no handler is registered for → 202, not parsed, not journalled;
4. not JSON (or not an object) → 400 — checked in full, but only the fields routing needs are
   built (envelope.summarise); an action nobody handles → 202, not journalled;
5. journal (durable) → 202; a delivery id seen before → 202 and nothing else.
The work itself runs later, in the worker.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from gidgethub import ValidationFailure
from gidgethub.sansio import Event, validate_event

from bot.service.envelope import NotAJsonObject, summarise
from bot.service.journal import Journal, NewDelivery
from bot.service.routing import ComposedRouter
from bot.service.worker import AckFirst

log = logging.getLogger("bot.service.intake")

_PARSE_OFF_LOOP_BYTES = 512 * 1024  # bigger bodies are checked in a thread so other acks are not delayed


class Intake:
    def __init__(
        self, *, secret: str, max_body_bytes: int, router: ComposedRouter, journal: Journal,
        submit: Callable[[NewDelivery], None], ack_first: AckFirst | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required: unsigned deliveries are never accepted")
        self._secret = secret
        self._max_body_bytes = max_body_bytes
        self._router = router
        self._journal = journal
        self._submit = submit  # to the worker, inline or in its own process
        # Inline, the worker shares this loop and defers to requests in progress (AckFirst).
        self._ack_first = ack_first

    async def handle(self, request: web.Request) -> web.Response:
        if self._ack_first is None:
            return await self._handle(request)
        self._ack_first.enter()
        try:
            return await self._handle(request)
        finally:
            self._ack_first.leave()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > self._max_body_bytes:
            return _answer(413, "payload too large")
        try:
            # aiohttp caps the read itself at the app's client_max_size (= max_body_bytes), so a
            # body without (or lying about) Content-Length is cut off as soon as it goes over.
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _answer(413, "payload too large")

        signature = request.headers.get("X-Hub-Signature-256")
        if not signature:
            log.warning("unsigned delivery %s refused", request.headers.get("X-GitHub-Delivery", "-"))
            return _answer(401, "missing X-Hub-Signature-256")
        try:
            validate_event(body, signature=signature, secret=self._secret)
        except ValidationFailure:
            log.warning("delivery %s refused: bad signature", request.headers.get("X-GitHub-Delivery", "-"))
            return _answer(401, "bad signature")

        event_name = request.headers.get("X-GitHub-Event")
        delivery_id = request.headers.get("X-GitHub-Delivery")
        if not event_name or not delivery_id:
            return _answer(400, "missing X-GitHub-Event or X-GitHub-Delivery")
        if event_name not in self._router.events:
            return _answer(202, "ignored: event not handled")

        try:
            summary = await self._summarise(body)
        except NotAJsonObject:
            return _answer(400, "body is not a JSON object")
        event = Event(summary, event=event_name, delivery_id=delivery_id)
        if not self._router.handles(event):
            return _answer(202, "ignored: action not handled")

        delivery = describe(event, body)
        try:
            new = await self._journal.record(delivery)
        except Exception:  # noqa: BLE001 - without a durable record we must not say 202
            log.exception("delivery %s could not be journalled", delivery_id)
            return _answer(503, "journal unavailable; redeliver later")
        if not new:
            log.info("delivery %s %s: duplicate, ignored", delivery_id, event_name)
            return _answer(202, "duplicate delivery")
        self._submit(delivery)
        return _answer(202, "accepted")

    @staticmethod
    async def _summarise(body: bytes) -> dict[str, Any]:
        if len(body) > _PARSE_OFF_LOOP_BYTES:
            return await asyncio.get_running_loop().run_in_executor(None, summarise, body)
        return summarise(body)


def describe(event: Event, body: bytes) -> NewDelivery:
    data = event.data  # the summary (envelope.summarise): the fields read here are all in it
    installation = data.get("installation")
    repository = data.get("repository")
    repo = repository.get("full_name") if isinstance(repository, dict) else None
    return NewDelivery(
        delivery_id=event.delivery_id,
        event=event.event,
        action=data.get("action") if isinstance(data.get("action"), str) else None,
        installation_id=installation.get("id") if isinstance(installation, dict) else None,
        repo=repo,
        lane=lane_of(data, repo),
        body=body,
        received_at=time.time(),
    )


def lane_of(data: dict[str, Any], repo: str | None) -> str:
    """The serialisation key: one PR's deliveries never run concurrently (or out of received order)."""
    for key in ("pull_request", "issue"):
        item = data.get(key)
        if isinstance(item, dict) and isinstance(item.get("number"), int):
            return f"{repo}#{item['number']}"
    if isinstance(data.get("number"), int):
        return f"{repo}#{data['number']}"
    if repo:
        return repo
    installation = data.get("installation")
    if isinstance(installation, dict) and installation.get("id") is not None:
        return f"installation:{installation['id']}"
    return "app"


def _answer(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text)
