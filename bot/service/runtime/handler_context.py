"""What a webhook handler receives besides the event.

Handlers are gidgethub Router callbacks: `async def handler(event: Event, ctx: Context) -> None`,
dispatched by the worker as `await router.dispatch(event, ctx)`. A handler that raises is retried
with backoff (the whole delivery, so its writes must be idempotent: `ctx.once(key)` or look first);
one that raises `PermanentFailure` is not retried.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.settings import CONFIG_PATH, RepoSettings
from bot.github.client import GitHubClient
from bot.github.pulls import read_file
from bot.service.runtime.service_config import ServiceConfig
from bot.store.inbox import Inbox
from bot.store.repo_config import load_repo_settings


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help (e.g. the PR is gone): fail the delivery now."""


@dataclass
class Context:
    gh: GitHubClient | None  # acting as the delivery's installation; None when the payload names none
    installation_id: int | None
    repo: str | None  # "owner/name"
    delivery_id: str
    state_dir: Path
    settings: ServiceConfig  # the App's configuration (not the repository's: see repo_settings())
    clock: Callable[[], datetime]  # aware datetimes; injectable so handlers are testable in time
    inbox: Inbox  # where deliveries and idempotency keys are kept
    log: logging.LoggerAdapter[Any]
    attempt: int = 1  # this delivery's attempt; a later one may follow a crash right after a write
    _repo_settings: RepoSettings | None = field(default=None, repr=False)

    async def once(self, key: str) -> bool:
        """True if this delivery may perform the effect named by `key` (first time, or its own retry).

        Build keys from what identifies the effect, e.g. f"notice:{comment_id}:{updated_at}",
        so a redelivery or a duplicate event has no second effect.
        """
        return await self.inbox.once(key, self.delivery_id)

    async def repo_settings(self) -> RepoSettings:
        """The repository's `.github/threat-model-bot.yml` on its default branch (defaults when absent).

        Raises `bot.store.repo_config.RepoConfigError` for an invalid file: post its
        `as_markdown()` once on the PR (key it with `once`) and take no other action.
        """
        if self._repo_settings is None:
            self._repo_settings = load_repo_settings(await self._read_config_text())
        return self._repo_settings

    async def _read_config_text(self) -> str | None:
        if self.gh is None or self.repo is None:
            return None
        found = await read_file(self.gh, self.repo, CONFIG_PATH)  # no ref: the default branch
        return found.text if found is not None else None
