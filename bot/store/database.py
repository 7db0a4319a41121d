"""Which database holds the service's state: SQLite in BOT_STATE_DIR, or PostgreSQL (DATABASE_URL).

`open_database` gives the inbox and, with PostgreSQL, the state files' home (`state_files`):
the local state directory is then only a working copy, pulled and pushed per PR under a lock
all instances share (bot/service/runtime/pull_locks.py). With SQLite the state directory is the state.
"""
from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.store.inbox import Inbox, SqliteInbox


class StateFiles(Protocol):
    async def pull(self, prefix: str = "") -> int: ...
    async def push(self, prefix: str = "") -> int: ...
    def pull_lock(self, key: str) -> AbstractAsyncContextManager[None]: ...


@dataclass
class Database:
    inbox: Inbox
    state_files: StateFiles | None  # None: the state directory itself is the state (SQLite)
    _pool: Any = None

    async def close(self) -> None:
        try:
            if self.state_files is not None:
                await self.state_files.push()  # a safety net: everything written under a PR lock is already there
            await self.inbox.close()
        finally:
            if self._pool is not None:
                await self._pool.close(timeout=2.0)


async def open_database(state_dir: Path, database_url: str | None, *, takeover_after: float) -> Database:
    if not database_url:
        return Database(await SqliteInbox.open(Path(state_dir) / "inbox.sqlite3", takeover_after=takeover_after), None)
    from bot.store.postgres import PostgresInbox, PostgresStateFiles, open_pool  # only when asked for

    pool = await open_pool(database_url)
    try:
        files = PostgresStateFiles(pool, state_dir)
        await files.pull()  # an empty disk gets everything back
        inbox = await PostgresInbox.open(pool, takeover_after=takeover_after)
    except BaseException:
        await pool.close(timeout=2.0)
        raise
    return Database(inbox, files, pool)
