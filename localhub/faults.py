"""Fault injection: switches a test turns on to make the local GitHub misbehave like the real one.

HTTP faults match a request by method and a glob on its path (`fnmatch`, so
`/repos/*/pulls/*/comments` matches every PR's comment list); webhook faults apply to the
next deliveries, optionally only for one event name.
"""
from __future__ import annotations

import asyncio
import fnmatch
from dataclasses import dataclass, field


@dataclass
class Fault:
    kind: str  # latency | error | hang | secondary_rate_limit | conflict
    path: str = "*"
    method: str | None = None  # None matches every method
    times: int | None = None  # None = until cleared
    status: int = 500
    seconds: float = 0.0  # latency, or the longest a hang lasts
    retry_after: int | None = None
    message: str = ""
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)


@dataclass
class WebhookFault:
    kind: str  # drop | duplicate | reorder
    times: int = 1  # deliveries affected (for reorder: how many are held and reversed)
    event: str | None = None
    hits: int = 0

    def matches(self, event: str) -> bool:
        return self.hits < self.times and (self.event is None or self.event == event)


@dataclass
class Faults:
    """The switchboard. `hub.faults` is one of these."""

    http: list[Fault] = field(default_factory=list)
    webhooks: list[WebhookFault] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    # -- HTTP -----------------------------------------------------------------------------

    def latency(self, path: str, seconds: float, method: str | None = None, times: int | None = None) -> Fault:
        """Delay matching requests by `seconds`, then answer normally."""
        return self._add(Fault("latency", path, method, times, seconds=seconds))

    def error(self, path: str, status: int = 502, method: str | None = None, times: int | None = 1,
              message: str = "Server Error") -> Fault:
        """Answer matching requests with a 5xx (or any status) and a GitHub-shaped error body."""
        return self._add(Fault("error", path, method, times, status=status, message=message))

    def hang(self, path: str, method: str | None = None, times: int | None = 1, seconds: float = 3600.0) -> Fault:
        """Never answer (until `seconds` pass, `clear()` is called or the hub stops)."""
        return self._add(Fault("hang", path, method, times, seconds=seconds))

    def secondary_rate_limit(self, path: str = "*", method: str | None = None, times: int | None = 1,
                             status: int = 403, retry_after: int | None = 60) -> Fault:
        """403 or 429 "You have exceeded a secondary rate limit", with `retry-after` if given."""
        return self._add(Fault("secondary_rate_limit", path, method, times, status=status,
                               retry_after=retry_after))

    def conflict(self, path: str, method: str | None = None, times: int | None = 1,
                 message: str = "Conflict") -> Fault:
        """409 with a GitHub error body, as when a ref or file moved under the caller."""
        return self._add(Fault("conflict", path, method, times, status=409, message=message))

    def _add(self, fault: Fault) -> Fault:
        self.http.append(fault)
        return fault

    def match_http(self, method: str, path: str) -> Fault | None:
        for fault in self.http:
            if fault.matches(method, path):
                fault.hits += 1
                return fault
        return None

    # -- webhooks -------------------------------------------------------------------------

    def drop_webhooks(self, times: int = 1, event: str | None = None) -> WebhookFault:
        """The next `times` matching deliveries are never sent (recorded as dropped)."""
        return self._add_hook(WebhookFault("drop", times, event))

    def duplicate_webhooks(self, times: int = 1, event: str | None = None) -> WebhookFault:
        """The next `times` matching deliveries are sent twice, with the same X-GitHub-Delivery."""
        return self._add_hook(WebhookFault("duplicate", times, event))

    def reorder_webhooks(self, count: int = 2, event: str | None = None) -> WebhookFault:
        """Hold the next `count` matching deliveries, then send them in reverse order."""
        return self._add_hook(WebhookFault("reorder", count, event))

    def _add_hook(self, fault: WebhookFault) -> WebhookFault:
        self.webhooks.append(fault)
        return fault

    def match_webhook(self, event: str) -> WebhookFault | None:
        for fault in self.webhooks:
            if fault.matches(event):
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        """Switch every fault off and release hung requests."""
        self.http.clear()
        self.webhooks.clear()
        self.released.set()
        self.released = asyncio.Event()
