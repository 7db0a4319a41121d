"""GitHub App authentication: App JWT → installation access token, cached per installation.

A token lives one hour; we renew it when less than `renew_before` (5 minutes) is left, so a
delivery never starts with a token about to lapse. One lock per installation means a burst of
deliveries for a new installation asks GitHub for one token, not two hundred.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeGuard

from gidgethub.abc import GitHubAPI
from gidgethub.apps import get_installation_access_token

from bot.github.keys import signing_key

RENEW_BEFORE = timedelta(minutes=5)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AppCredentials:
    app_id: str
    private_key: str  # PEM


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: datetime  # aware, UTC


class InstallationTokens:
    """The token cache. `app_api` is a JWT-capable client (no installation token of its own)."""

    def __init__(
        self,
        app_api: GitHubAPI,
        credentials: AppCredentials,
        *,
        renew_before: timedelta = RENEW_BEFORE,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._app_api = app_api
        self._credentials = credentials
        self._renew_before = renew_before
        self._clock = clock
        self._tokens: dict[int, InstallationToken] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self.fetches = 0  # how many tokens were minted (observability; the tests read it)

    def cached(self, installation_id: int) -> InstallationToken | None:
        return self._tokens.get(installation_id)

    def _fresh(self, token: InstallationToken | None) -> TypeGuard[InstallationToken]:
        return token is not None and token.expires_at - self._clock() > self._renew_before

    async def token(self, installation_id: int) -> str:
        current = self._tokens.get(installation_id)
        if self._fresh(current):
            return current.token
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            current = self._tokens.get(installation_id)  # someone may have renewed it while we waited
            if self._fresh(current):
                return current.token
            minted = await self._mint(installation_id)
            self._tokens[installation_id] = minted
            return minted.token

    def invalidate(self, installation_id: int, token: str) -> None:
        """Forget a token GitHub rejected (revoked, or the clock lied), unless it was already replaced."""
        current = self._tokens.get(installation_id)
        if current is not None and current.token == token:
            del self._tokens[installation_id]

    async def _mint(self, installation_id: int) -> InstallationToken:
        response = await get_installation_access_token(
            self._app_api,
            installation_id=str(installation_id),
            app_id=self._credentials.app_id,
            private_key=signing_key(self._credentials.private_key),  # type: ignore[arg-type]  # loaded once; PyJWT takes it
        )
        self.fetches += 1
        expires_at = datetime.fromisoformat(response["expires_at"].replace("Z", "+00:00"))
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        return InstallationToken(token=response["token"], expires_at=expires_at)
