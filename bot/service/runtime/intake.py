"""POST /webhook: verify, record, answer — in that order, and nothing slower.

1. size: Content-Length over the cap → 413 before reading; the read itself is capped too;
2. signature: X-Hub-Signature-256 (HMAC-SHA256 of the raw body, constant-time compare via
   gidgethub.sansio.validate_event) checked *before* the body is parsed → 401;
3. not a JSON object → 400;
4. no handler matches the event and its action → 202, not recorded;
5. recorded in the inbox (one transaction) → 202; a delivery id seen before → 202 and nothing else.
The work itself runs later, in the worker (worker.py), which the intake wakes.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import ClientPayloadError, web
from gidgethub import ValidationFailure
from gidgethub.sansio import Event, validate_event

from bot.service.runtime.routing import ComposedRouter
from bot.store.inbox import Inbox, NewDelivery

log = logging.getLogger("bot.service.runtime.intake")

_PARSE_OFF_LOOP_BYTES = 512 * 1024  # bigger bodies are parsed in a thread so other acks are not delayed


class Intake:
    def __init__(
        self, *, secret: str, max_body_bytes: int, router: ComposedRouter, inbox: Inbox, wake: Callable[[], None],
        body_timeout: float = 10.0,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required: unsigned deliveries are never accepted")
        self._secret = secret
        self._max_body_bytes = max_body_bytes
        self._router = router
        self._inbox = inbox
        self._wake = wake  # tells the worker there is something new
        self._body_timeout = body_timeout  # GitHub sends a whole delivery well within its own 10 s

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > self._max_body_bytes:
            return _closing(413, "payload too large")
        try:
            # aiohttp caps the read itself at the app's client_max_size (= max_body_bytes), so a
            # body without (or lying about) Content-Length is cut off as soon as it goes over.
            async with asyncio.timeout(self._body_timeout):
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _closing(413, "payload too large")
        except TimeoutError:
            log.warning("a body from %s took over %.0fs; dropped", request.remote, self._body_timeout)
            return _closing(408, "request body too slow")
        except (ConnectionError, ClientPayloadError) as error:  # the client went away mid-body
            log.info("a client at %s went away before its body was read (%s)", request.remote, type(error).__name__)
            return _closing(400, "incomplete body")

        delivery_id = request.headers.get("X-GitHub-Delivery")
        signature = request.headers.get("X-Hub-Signature-256")
        if not signature:
            log.warning("unsigned delivery %s refused", delivery_id or "-")
            return _answer(401, "missing X-Hub-Signature-256")
        try:
            validate_event(body, signature=signature, secret=self._secret)
        except ValidationFailure:
            log.warning("delivery %s refused: bad signature", delivery_id or "-")
            return _answer(401, "bad signature")

        event_name = request.headers.get("X-GitHub-Event")
        if not event_name or not delivery_id:
            return _answer(400, "missing X-GitHub-Event or X-GitHub-Delivery")
        data = await _parse(body)
        if data is None:
            return _answer(400, "body is not a JSON object")
        event = Event(data, event=event_name, delivery_id=delivery_id)
        if not self._router.handles(event):
            return _answer(202, "ignored: not handled")

        try:
            new = await self._inbox.record(describe(event, body))
        except Exception:  # without a durable row we must not say 202
            log.exception("delivery %s could not be recorded", delivery_id)
            return _answer(503, "inbox unavailable; redeliver later")
        if not new:
            log.info("delivery %s %s: duplicate, ignored", delivery_id, event_name)
            return _answer(202, "duplicate delivery")
        self._wake()
        return _answer(202, "accepted")


async def _parse(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None."""
    try:
        if len(body) > _PARSE_OFF_LOOP_BYTES:
            data = await asyncio.get_running_loop().run_in_executor(None, json.loads, body)
        else:
            data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or not UTF-8
        return None
    return data if isinstance(data, dict) else None


def describe(event: Event, body: bytes) -> NewDelivery:
    data = event.data
    installation = data.get("installation")
    repository = data.get("repository")
    repo = repository.get("full_name") if isinstance(repository, dict) else None
    return NewDelivery(
        delivery_id=event.delivery_id,
        event=event.event,
        action=data.get("action") if isinstance(data.get("action"), str) else None,
        installation_id=installation.get("id") if isinstance(installation, dict) else None,
        repo=repo if isinstance(repo, str) else None,
        lane=lane_of(data, repo if isinstance(repo, str) else None),
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


def _closing(status: int, text: str) -> web.Response:
    """An answer after which the connection is closed: the rest of its body is never read."""
    return web.Response(status=status, text=text, headers={"Connection": "close"})
