"""What `serve` checks before its first delivery, and the GitHub half of `GET /health`.

- The credentials must be usable: the App id a number, the private key a PEM RSA key. A wrong
  one is refused at start with the variable named, not discovered by the first delivery.
- GitHub is asked who the App is (`GET /app`, with the App's JWT) as soon as the service
  listens, not before: a GitHub that is slow to answer must not keep deliveries out. Until it
  answers, /health says `unchecked`. Reachable: the log says which App this is. Unreachable: the
  service runs anyway (deliveries wait in the inbox), and /health says so. Rejected: it runs
  too, and /health says `degraded` until GitHub accepts the credentials again (rechecked every
  minute while something is wrong, every 15 minutes otherwise).
- /health is also `degraded` while deliveries keep failing: a delivery failed (after all its
  attempts) and none has finished well since. Counted from the inbox's totals, so it sees
  failures between two polls of /health only as totals.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from gidgethub import BadRequest, GitHubBroken

from bot.github.auth import AppCredentials
from bot.github.client import GitHubClient, RetryPolicy
from bot.github.keys import PrivateKeyError, check_private_key
from bot.service.runtime.service_config import ServiceConfig

log = logging.getLogger(__name__)

OK, UNCHECKED, UNREACHABLE, REJECTED = "ok", "unchecked", "unreachable", "rejected"
RECHECK_WHEN_OK_SECONDS = 15 * 60.0
RECHECK_WHEN_WRONG_SECONDS = 60.0
ONE_TRY = RetryPolicy(attempts=1, request_timeout=10.0)  # a start-up check must not sit through backoff


class CredentialsError(ValueError):
    """The App's credentials cannot work; the message names the variable to fix."""


def check_credentials(config: ServiceConfig, environ: Mapping[str, str]) -> None:
    if not config.app_id.isdigit():
        raise CredentialsError(f"GITHUB_APP_ID must be the App's number (\"App ID\" on its settings page), "
                               f"not {config.app_id!r}")
    source = ("GITHUB_PRIVATE_KEY" if environ.get("GITHUB_PRIVATE_KEY", "").strip()
              else f"GITHUB_PRIVATE_KEY_PATH ({environ.get('GITHUB_PRIVATE_KEY_PATH', '').strip()})")
    try:
        check_private_key(config.private_key)
    except PrivateKeyError as error:
        raise CredentialsError(f"{source} is {error}; generate a key on the App's settings page (Private keys)") from None


@dataclass
class GitHubStatus:
    """What the service last learnt from GitHub about its own App."""

    api_url: str
    state: str = UNCHECKED
    detail: str = ""
    app_name: str | None = None
    checked_at: datetime | None = None
    _failed_seen: int = field(default=0, repr=False)
    _done_seen: int = field(default=0, repr=False)
    _failing: bool = field(default=False, repr=False)

    def report(self, delivery_counts: Mapping[str, int]) -> dict[str, object]:
        """/health's `status`, `github` and `problems` fields."""
        problems = []
        if self.state == REJECTED:
            problems.append(f"GitHub rejects the App's credentials: {self.detail}")
        elif self.state == UNREACHABLE:
            problems.append(f"GitHub at {self.api_url} cannot be reached: {self.detail}")
        if self._deliveries_failing(delivery_counts):
            problems.append("deliveries keep failing: one failed after all its attempts and none has succeeded since")
        github: dict[str, object] = {"state": self.state, "api_url": self.api_url}
        if self.app_name:
            github["app"] = self.app_name
        if self.checked_at:
            github["checked_at"] = self.checked_at.isoformat(timespec="seconds").replace("+00:00", "Z")
        return {"status": "degraded" if problems else "ok", "github": github, "problems": problems}

    def _deliveries_failing(self, counts: Mapping[str, int]) -> bool:
        done, failed = counts.get("done", 0), counts.get("failed", 0)
        if done > self._done_seen:
            self._failing = False
        if failed > self._failed_seen and done == self._done_seen:
            self._failing = True
        self._done_seen, self._failed_seen = done, failed
        return self._failing

    def describe(self) -> str:
        """One line for the log at start."""
        if self.state == OK:
            return f"GitHub App {self.app_name} at {self.api_url}"
        if self.state == REJECTED:
            return (f"GitHub at {self.api_url} rejects the App's credentials ({self.detail}): check GITHUB_APP_ID and "
                    "the private key; starting anyway, /health reports degraded until they work")
        return f"GitHub at {self.api_url} cannot be reached ({self.detail}); starting anyway, /health reports it"


async def check_github(config: ServiceConfig, status: GitHubStatus, session: aiohttp.ClientSession | None = None) -> GitHubStatus:
    """Ask GitHub once who the App is (`GET /app`) and record the answer in `status`."""
    owned = session is None
    session = session or aiohttp.ClientSession()
    client = GitHubClient(session, base_url=config.api_url, retry=ONE_TRY,
                          app_credentials=AppCredentials(config.app_id, config.private_key))
    try:
        app = await client.getitem("/app")
        owner = (app.get("owner") or {}).get("login")
        status.state, status.detail = OK, ""
        status.app_name = f"{app.get('name') or app.get('slug')!r} (id {app.get('id')}" + (f", owned by {owner})" if owner else ")")
    except BadRequest as error:
        status.state, status.detail = REJECTED, f"HTTP {int(error.status_code)}: {error}"
    except GitHubBroken as error:
        status.state, status.detail = UNREACHABLE, f"HTTP {int(error.status_code)}"
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        status.state, status.detail = UNREACHABLE, str(error) or type(error).__name__
    except Exception as error:  # noqa: BLE001 - an answer not shaped as GitHub's (a redirect, not JSON): say so, keep checking
        status.state, status.detail = UNREACHABLE, f"an unexpected answer ({type(error).__name__}: {error})"
    finally:
        if owned:
            await session.close()
    status.checked_at = datetime.now(UTC)
    return status


# The hook app.py's /health reads: the status object, set by `watch_github`.
GITHUB_STATUS = web.AppKey("github_status", GitHubStatus)


def watch_github(app: web.Application, config: ServiceConfig, status: GitHubStatus,
                 on_first_answer: Callable[[GitHubStatus], None] | None = None) -> None:
    """Expose `status` to /health and keep it current while the service runs: checked at once
    (unless already checked), then rechecked; `on_first_answer` hears the first check's outcome."""
    app[GITHUB_STATUS] = status

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_recheck_forever(config, status, on_first_answer), name="github-status")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(lifetime)


async def _recheck_forever(config: ServiceConfig, status: GitHubStatus,
                           on_first_answer: Callable[[GitHubStatus], None] | None) -> None:
    async with aiohttp.ClientSession() as session:
        if status.state == UNCHECKED:
            await check_github(config, status, session)
            if on_first_answer is not None:
                on_first_answer(status)
        while True:
            await asyncio.sleep(RECHECK_WHEN_OK_SECONDS if status.state == OK else RECHECK_WHEN_WRONG_SECONDS)
            was = status.state
            await check_github(config, status, session)
            if status.state != was:
                (log.info if status.state == OK else log.warning)("github: %s", status.describe())
