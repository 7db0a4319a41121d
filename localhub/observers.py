"""Listeners that see every exchange of every local GitHub in this process.

The test suite attaches one to hold the local GitHub to GitHub's own OpenAPI description
(tests/openapi). Nothing is read or copied while no listener is attached.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HttpExchange:
    """One request to the local GitHub and the answer it gave."""

    method: str
    path: str
    query: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes | None  # None for a streamed answer


@dataclass(frozen=True)
class WebhookEmitted:
    """One event the local GitHub produced, with the headers its delivery carries."""

    event: str
    headers: dict[str, str]
    payload: dict[str, Any]


@dataclass
class Observers:
    http: list[Callable[[HttpExchange], None]] = field(default_factory=list)
    webhooks: list[Callable[[WebhookEmitted], None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.http or self.webhooks)

    def saw_http(self, exchange: HttpExchange) -> None:
        for listener in list(self.http):
            listener(exchange)

    def saw_webhook(self, emitted: WebhookEmitted) -> None:
        for listener in list(self.webhooks):
            listener(emitted)


OBSERVERS = Observers()
