"""One lock per pull request, shared by the worker's handlers and the scheduler — and, with
PostgreSQL, by every instance.

The worker already runs one PR's deliveries one at a time, but the scheduler (reconcile,
digest) and an `issues` event (which runs in the issue's own lane) touch the same PR's
records and state.json: without this they could overwrite each other's writes.

With PostgreSQL (DATABASE_URL) the PR's files live in the database: the lock is also a database
lock all instances take, and inside it the PR's folder is first brought up to date from the
database and afterwards written back. Which database applies is set per unit of work (a
delivery, a scheduler tick) with `working_with`, so handlers keep calling `pull_lock(repo, n)`.
"""
from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path

from bot.store.database import StateFiles
from bot.store.pull_state import pull_directory

# Per event loop: an asyncio.Lock belongs to the loop it was first waited on in, so one shared
# across loops (a restarted service in one process, the tests) would fail when contended.
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, int], asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
_state_files: ContextVar[StateFiles | None] = ContextVar("state_files", default=None)


@contextmanager
def working_with(state_files: StateFiles | None) -> Iterator[None]:
    """Within this block (this task), PR locks also sync the PR's files with `state_files`."""
    token = _state_files.set(state_files)
    try:
        yield
    finally:
        _state_files.reset(token)


@asynccontextmanager
async def pull_lock(repo: str, number: int) -> AsyncIterator[None]:
    """Not re-entrant: never take it while holding it."""
    per_loop = _locks.setdefault(asyncio.get_running_loop(), {})
    lock = per_loop.setdefault((repo.lower(), int(number)), asyncio.Lock())
    async with lock:
        files = _state_files.get()
        if files is None:
            yield
            return
        folder = pull_directory(Path(""), repo, number).as_posix() + "/"
        async with files.pull_lock(f"{repo.lower()}#{int(number)}"):
            await files.pull(folder)
            try:
                yield
            finally:
                # After a failure too: what was written (a notice id, say) was done on GitHub, and
                # the retry must know it, as it would from the files alone.
                await files.push(folder)
