"""One lock per pull request, shared by the worker's handlers and the scheduler.

The worker already runs one PR's deliveries one at a time, but the scheduler (reconcile,
digest) and an `issues` event (which runs in the issue's own lane) touch the same PR's
records and state.json: without this they could overwrite each other's writes.
"""
from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# Per event loop: an asyncio.Lock belongs to the loop it was first waited on in, so one shared
# across loops (a restarted service in one process, the tests) would fail when contended.
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, int], asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def pull_lock(repo: str, number: int) -> AsyncIterator[None]:
    """Not re-entrant: never take it while holding it."""
    per_loop = _locks.setdefault(asyncio.get_running_loop(), {})
    lock = per_loop.setdefault((repo.lower(), int(number)), asyncio.Lock())
    async with lock:
        yield
