"""One lock per pull request, shared by the worker's handlers and the scheduler.

The worker already runs one PR's deliveries one at a time, but the scheduler (reconcile,
digest) and an `issues` event (which runs in the issue's own lane) touch the same PR's
records and state.json: without this they could overwrite each other's writes.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

_locks: dict[tuple[str, int], asyncio.Lock] = {}


@asynccontextmanager
async def pull_lock(repo: str, number: int) -> AsyncIterator[None]:
    lock = _locks.setdefault((repo.lower(), int(number)), asyncio.Lock())
    async with lock:
        yield
