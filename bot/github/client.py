"""The service's GitHub client: gidgethub's aiohttp GitHubAPI plus what a long-running App needs.

- installation token injected per request (renewed by `InstallationTokens`; a 401 drops it and
  retries once with a new one);
- an ETag cache per installation (gidgethub turns a 304 into the cached body; 304s do not count
  against the rate limit);
- 5xx, timeouts and connection errors retried with bounded exponential backoff and jitter;
- secondary rate limits (403/429 with `retry-after`, or `x-ratelimit-remaining: 0` with a reset)
  waited out, within a bound — a longer wait raises, and the worker retries the delivery later;
- the remaining rate limit exposed per installation.

Retries live in `_request` rather than gidgethub's `handle_rate_limit_error` hook because
`graphql()` calls `_request` directly: one place covers REST and GraphQL alike. Retrying a POST
after a timeout can repeat a write; handlers make every write idempotent (look first, then write).
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from gidgethub.aiohttp import GitHubAPI
from gidgethub.apps import get_jwt

from bot.github.auth import AppCredentials, InstallationTokens
from bot.github.keys import signing_key

log = logging.getLogger(__name__)

USER_AGENT = "threat-model-bot"
_TRANSIENT_ERRORS = (asyncio.TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries per request, the first included
    base_delay: float = 0.5  # seconds before the first retry; doubles each time
    max_delay: float = 20.0
    max_rate_limit_wait: float = 120.0  # wait longer than this in-process? no: raise, retry the delivery later
    default_secondary_wait: float = 60.0  # a secondary limit without retry-after or reset (GitHub: "≥ 1 minute")
    request_timeout: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Delay after failed attempt `attempt` (1-based): exponential, capped, with equal jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class LruCache(MutableMapping[str, Any]):
    """A bounded mapping for gidgethub's ETag cache: the least recently used URL is evicted."""

    def __init__(self, max_entries: int = 512) -> None:
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._max_entries = max_entries

    def __getitem__(self, key: str) -> Any:
        value = self._entries[key]
        self._entries.move_to_end(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def __delitem__(self, key: str) -> None:
        del self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class InstallationState:
    """What outlives one delivery's client: the ETag cache and the last rate-limit reading."""

    cache: LruCache = field(default_factory=LruCache)
    rate_limit_remaining: int | None = None
    rate_limit_reset: float | None = None  # epoch seconds


class GitHubClient(GitHubAPI):
    """gidgethub's aiohttp client with retries, waits and (optionally) an installation token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        retry: RetryPolicy = RetryPolicy(),
        installation_id: int | None = None,
        tokens: InstallationTokens | None = None,
        state: InstallationState | None = None,
        requester: str = USER_AGENT,
        app_credentials: AppCredentials | None = None,
    ) -> None:
        self._state = state or InstallationState()
        super().__init__(
            session,
            requester,
            cache=self._state.cache,
            base_url=base_url.rstrip("/"),
            app_id=app_credentials.app_id if app_credentials else None,
            private_key=app_credentials.private_key if app_credentials else None,
        )
        self.retry = retry
        self.installation_id = installation_id
        self._tokens = tokens
        self.calls = 0  # HTTP exchanges made, retries included (observability)

    @property
    def rate_limit_remaining(self) -> int | None:
        return self._state.rate_limit_remaining

    async def graphql(self, query: str, *, endpoint: str | None = None, **variables: Any) -> Any:
        # gidgethub defaults to api.github.com; a GHES or local GitHub needs its own endpoint.
        return await super().graphql(query, endpoint=endpoint or f"{self.base_url}/graphql", **variables)

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        attempt = 0
        reauthenticated = False
        while True:
            attempt += 1
            sent_headers, token = await self._authorise(headers)
            try:
                self.calls += 1
                async with asyncio.timeout(self.retry.request_timeout):  # not wait_for: it can drop a cancel (3.11)
                    status, response_headers, data = await super()._request(method, url, sent_headers, body)
            except _TRANSIENT_ERRORS as error:
                if attempt >= self.retry.attempts:
                    raise
                delay = self.retry.backoff(attempt)
                log.warning("%s %s: %s; retry %d in %.1fs", method, url, type(error).__name__, attempt, delay)
                await self.sleep(delay)
                continue
            self._note_rate_limit(response_headers)
            if status == 401 and token is not None and not reauthenticated and self._tokens is not None:
                self._tokens.invalidate(self.installation_id, token)  # type: ignore[arg-type]  # a token implies an installation id
                reauthenticated = True
                attempt -= 1  # a stale token is not a failure of GitHub's
                continue
            wait = self._retry_wait(status, response_headers, data, attempt)
            if wait is None or attempt >= self.retry.attempts:
                return status, response_headers, data
            log.warning("%s %s: HTTP %d; retry %d in %.1fs", method, url, status, attempt, wait)
            await self.sleep(wait)

    async def _authorise(self, headers: Mapping[str, str]) -> tuple[Mapping[str, str], str | None]:
        if self._tokens is None or self.installation_id is None or "authorization" in headers:
            return headers, None  # an explicit jwt/oauth token from the caller wins
        token = await self._tokens.token(self.installation_id)
        return {**headers, "authorization": f"token {token}"}, token

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            self._state.rate_limit_remaining = int(remaining)
        reset = headers.get("x-ratelimit-reset")
        if reset is not None and reset.isdigit():
            self._state.rate_limit_reset = float(reset)

    def _retry_wait(self, status: int, headers: Mapping[str, str], body: bytes, attempt: int) -> float | None:
        """Seconds to wait before retrying this response, or None to hand it to the caller."""
        if status >= 500:
            return self.retry.backoff(attempt)
        if status not in (403, 429):
            return None
        wait = self._rate_limit_wait(status, headers, body, attempt)
        if wait is None or wait > self.retry.max_rate_limit_wait:
            return None  # a plain 403, or a wait too long to sit through: let the error surface
        return wait

    def _rate_limit_wait(self, status: int, headers: Mapping[str, str], body: bytes, attempt: int) -> float | None:
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass  # an HTTP date; fall through to the other signals
        if headers.get("x-ratelimit-remaining") == "0" and (reset := headers.get("x-ratelimit-reset")):
            try:
                return max(0.0, float(reset) - time.time()) + 1.0
            except ValueError:
                pass
        if status == 429 or b"secondary rate limit" in body.lower():
            return self.retry.default_secondary_wait * 2 ** (attempt - 1)
        return None  # a 403 that is about permissions, not rate


class GitHubApp:
    """Makes clients: the App's own (JWT) and one per installation, sharing one aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        credentials: AppCredentials,
        *,
        base_url: str,
        retry: RetryPolicy = RetryPolicy(),
        tokens: InstallationTokens | None = None,
    ) -> None:
        self.session = session
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.tokens = tokens or InstallationTokens(self.app_client(), credentials)
        self._installations: dict[int, InstallationState] = {}

    @classmethod
    def create(cls, credentials: AppCredentials, *, base_url: str, retry: RetryPolicy = RetryPolicy()) -> GitHubApp:
        """With its own session (call `close()`); must run inside an event loop."""
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        return cls(session, credentials, base_url=base_url, retry=retry)

    async def close(self) -> None:
        await self.session.close()

    def app_client(self) -> GitHubClient:
        """Authenticated as the App itself (JWT): installation lookups, token minting."""
        return GitHubClient(self.session, base_url=self.base_url, retry=self.retry, app_credentials=self.credentials)

    def installation_client(self, installation_id: int) -> GitHubClient:
        """A client acting as the installation; its token is fetched (or renewed) on first use."""
        state = self._installations.setdefault(installation_id, InstallationState())
        return GitHubClient(
            self.session, base_url=self.base_url, retry=self.retry,
            installation_id=installation_id, tokens=self.tokens, state=state,
        )

    def rate_limit_remaining(self, installation_id: int) -> int | None:
        state = self._installations.get(installation_id)
        return None if state is None else state.rate_limit_remaining

    def app_jwt(self) -> str:
        # PyJWT signs with a loaded key as well as with PEM text; the loaded one is cached.
        key = signing_key(self.credentials.private_key)
        return get_jwt(app_id=self.credentials.app_id, private_key=key)  # type: ignore[arg-type]
