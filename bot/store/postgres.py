"""The service's state in PostgreSQL (when DATABASE_URL is set), with psycopg 3 (async) and its pool.

Two parts, so that a restart on an empty disk loses nothing and several instances can share it:

* PostgresInbox: the inbox of bot/store/inbox.py, the same tables and rules. Claims are taken
  under one transaction-scoped advisory lock, so two instances never claim the same lane head.
* PostgresStateFiles: every file of the state directory (each PR's state.json with its notice
  ids, spans, digest weeks and people; its question records as YAML text exactly as ruamel.yaml
  wrote them; the document copy) as rows of `state_files`. A PR's files are pulled before work
  on that PR and pushed after it, under a session advisory lock for that PR that every instance
  takes (see bot/service/runtime/pull_locks.py), so only one instance works on a PR at a time.

Why psycopg and not procrastinate: the inbox needs one table, a head-of-lane claim and a
heartbeat — a few statements that read the same on SQLite. A task queue would bring its own
schema, worker and retry model beside the SQLite one, and the two back-ends would differ.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from bot.store.inbox import HANDLED_RETENTION_SECONDS, RETENTION_SECONDS, Delivery, NewDelivery

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    seq BIGSERIAL PRIMARY KEY,
    delivery_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    action TEXT,
    installation_id BIGINT,
    repo TEXT,
    lane TEXT NOT NULL,
    body BYTEA NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before DOUBLE PRECISION NOT NULL DEFAULT 0,
    claimed_by TEXT,
    last_error TEXT,
    finished_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (lane, seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS inbox_finished ON inbox (finished_at) WHERE state <> 'pending';
CREATE TABLE IF NOT EXISTS handled (key TEXT PRIMARY KEY, delivery_id TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS instances (id TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS state_files (
    path TEXT PRIMARY KEY,          -- relative to the state directory, e.g. repos/o/r/pulls/1/state.json
    content TEXT NOT NULL,
    sha TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
"""
_COLUMNS = "delivery_id, event, action, installation_id, repo, lane, body, received_at, seq, state, attempts, last_error"
_CLAIM_LOCK = 0x7B07_1B0C  # one advisory lock id for "claiming", shared by every instance
_SCHEMA_LOCK = 0x7B07_5C4E


async def open_pool(url: str, *, size: int = 20) -> AsyncConnectionPool:
    """A pool of autocommit connections; the schema is created once (under a lock: several
    instances may start at once). Each PR being worked on holds one connection for its lock
    (8 lanes and the scheduler), and the inbox needs a few more meanwhile."""
    pool = AsyncConnectionPool(url, min_size=1, max_size=size, open=False, timeout=15.0,
                               kwargs={"autocommit": True})
    await pool.open(wait=True, timeout=15.0)
    async with pool.connection() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        await connection.execute(_SCHEMA)
    return pool


class PostgresInbox:
    def __init__(self, pool: AsyncConnectionPool, *, takeover_after: float = 30.0) -> None:
        self.instance = uuid.uuid4().hex
        self.takeover_after = takeover_after
        self._pool = pool

    @classmethod
    async def open(cls, pool: AsyncConnectionPool, *, takeover_after: float = 30.0) -> PostgresInbox:
        inbox = cls(pool, takeover_after=takeover_after)
        await inbox.heartbeat()
        return inbox

    async def close(self) -> None:
        """Release this instance's claims; the pool is its owner's to close."""
        async with self._pool.connection() as connection, connection.transaction():
            await connection.execute("UPDATE inbox SET claimed_by = NULL, attempts = attempts - 1 "
                                     "WHERE claimed_by = %s AND state = 'pending'", (self.instance,))
            await connection.execute("DELETE FROM instances WHERE id = %s", (self.instance,))

    async def record(self, delivery: NewDelivery) -> bool:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(
                "INSERT INTO inbox (delivery_id, event, action, installation_id, repo, lane, body, received_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (delivery_id) DO NOTHING",
                (delivery.delivery_id, delivery.event, delivery.action, delivery.installation_id, delivery.repo,
                 delivery.lane, delivery.body, delivery.received_at))
            return cursor.rowcount == 1

    async def heartbeat(self) -> None:
        async with self._pool.connection() as connection:
            await connection.execute(
                "INSERT INTO instances (id, seen_at) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
                (self.instance, time.time()))

    async def claim(self, *, skip_lanes: set[str], limit: int) -> list[Delivery]:
        now = time.time()
        async with self._pool.connection() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_CLAIM_LOCK,))
            cursor = await connection.execute(
                f"SELECT {_COLUMNS} FROM inbox WHERE seq IN ("
                "  SELECT DISTINCT ON (lane) seq FROM inbox WHERE state = 'pending' ORDER BY lane, seq"
                ") AND not_before <= %s "
                "AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT id FROM instances WHERE seen_at > %s)) "
                "AND NOT (lane = ANY(%s)) ORDER BY seq LIMIT %s",
                (now, now - self.takeover_after, list(skip_lanes), limit))
            rows = await cursor.fetchall()
            if rows:
                await connection.execute("UPDATE inbox SET claimed_by = %s, attempts = attempts + 1 WHERE seq = ANY(%s)",
                                         (self.instance, [row[8] for row in rows]))
            await connection.execute("DELETE FROM instances WHERE seen_at <= %s", (now - 10 * self.takeover_after,))
        return [_delivery(row, attempts_delta=1) for row in rows]

    async def next_due(self) -> float | None:
        now = time.time()
        async with self._pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT MIN(not_before) FROM inbox WHERE seq IN ("
                "  SELECT DISTINCT ON (lane) seq FROM inbox WHERE state = 'pending' ORDER BY lane, seq"
                ") AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT id FROM instances WHERE seen_at > %s))",
                (now - self.takeover_after,))
            row = await cursor.fetchone()
        return row[0] if row else None

    async def mark_done(self, delivery_id: str) -> None:
        await self._finish(delivery_id, "done", None)

    async def mark_failed(self, delivery_id: str, error: str) -> None:
        await self._finish(delivery_id, "failed", error)

    async def retry_later(self, delivery_id: str, error: str, delay: float) -> None:
        async with self._pool.connection() as connection:
            await connection.execute("UPDATE inbox SET claimed_by = NULL, last_error = %s, not_before = %s WHERE delivery_id = %s",
                                     (error, time.time() + delay, delivery_id))

    async def _finish(self, delivery_id: str, state: str, error: str | None) -> None:
        async with self._pool.connection() as connection:
            await connection.execute(
                "UPDATE inbox SET state = %s, claimed_by = NULL, last_error = COALESCE(%s, last_error), finished_at = %s "
                "WHERE delivery_id = %s", (state, error, time.time(), delivery_id))

    async def once(self, key: str, delivery_id: str) -> bool:
        async with self._pool.connection() as connection:
            await connection.execute("INSERT INTO handled (key, delivery_id, at) VALUES (%s, %s, %s) ON CONFLICT (key) DO NOTHING",
                                     (key, delivery_id, time.time()))
            cursor = await connection.execute("SELECT delivery_id FROM handled WHERE key = %s", (key,))
            row = await cursor.fetchone()
        return row is not None and row[0] == delivery_id

    async def prune(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        async with self._pool.connection() as connection, connection.transaction():
            removed = (await connection.execute("DELETE FROM inbox WHERE state <> 'pending' AND finished_at < %s",
                                                (now - RETENTION_SECONDS,))).rowcount
            removed += (await connection.execute("DELETE FROM handled WHERE at < %s",
                                                 (now - HANDLED_RETENTION_SECONDS,))).rowcount
        return removed

    async def get(self, delivery_id: str) -> Delivery | None:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(f"SELECT {_COLUMNS} FROM inbox WHERE delivery_id = %s", (delivery_id,))
            row = await cursor.fetchone()
        return _delivery(row) if row else None

    async def counts(self) -> dict[str, int]:
        async with self._pool.connection() as connection:
            cursor = await connection.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state")
            return {state: count for state, count in await cursor.fetchall()}


class PostgresStateFiles:
    """The state directory's files, kept in `state_files`; the local directory is a working copy."""

    def __init__(self, pool: AsyncConnectionPool, state_dir: Path) -> None:
        self._pool = pool
        self._state_dir = Path(state_dir)
        self._known: dict[str, str] = {}  # relative path -> sha as last pulled or pushed

    async def pull(self, prefix: str = "") -> int:
        """Make the local files under `prefix` what the database holds. Returns files written."""
        async with self._pool.connection() as connection:
            cursor = await connection.execute("SELECT path, sha FROM state_files WHERE path LIKE %s", (_like(prefix),))
            remote: dict[str, str] = dict(await cursor.fetchall())
            stale = [path for path, sha in remote.items() if _sha_of(self._state_dir / path) != sha]
            if stale:
                cursor = await connection.execute("SELECT path, content, sha FROM state_files WHERE path = ANY(%s)", (stale,))
                for path, content, sha in await cursor.fetchall():
                    _write_atomically(self._safe(path), content)
                    self._known[path] = sha
        for path, sha in remote.items():
            self._known[path] = sha
        for path in self._local_paths(prefix):  # gone from the database: another instance removed it
            if path not in remote and path in self._known:
                (self._state_dir / path).unlink(missing_ok=True)
                del self._known[path]
        return len(stale)

    async def push(self, prefix: str = "") -> int:
        """Write what changed locally under `prefix` to the database, in one transaction."""
        changed: list[tuple[str, str, str]] = []
        local = self._local_paths(prefix)
        for path in local:
            text = _read_text(self._state_dir / path)
            if text is None:
                continue
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if self._known.get(path) != sha:
                changed.append((path, text, sha))
        removed = [path for path in self._known if path.startswith(prefix) and path not in local]
        if not changed and not removed:
            return 0
        now = time.time()
        async with self._pool.connection() as connection, connection.transaction():
            for path, text, sha in changed:
                await connection.execute(
                    "INSERT INTO state_files (path, content, sha, updated_at) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (path) DO UPDATE SET content = excluded.content, sha = excluded.sha, updated_at = excluded.updated_at",
                    (path, text, sha, now))
            if removed:
                await connection.execute("DELETE FROM state_files WHERE path = ANY(%s)", (removed,))
        for path, _, sha in changed:
            self._known[path] = sha
        for path in removed:
            self._known.pop(path, None)
        return len(changed) + len(removed)

    @asynccontextmanager
    async def pull_lock(self, key: str) -> AsyncIterator[None]:
        """A session advisory lock on `key` (a PR), held on one pooled connection for the block."""
        lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        async with self._pool.connection() as connection:
            await connection.execute("SELECT pg_advisory_lock(%s)", (lock_id,))
            try:
                yield
            finally:
                await _unlock(connection, lock_id)

    def _local_paths(self, prefix: str) -> set[str]:
        root = self._state_dir / prefix if prefix else self._state_dir
        if not root.exists():
            return set()
        paths = set()
        for path in root.rglob("*"):
            relative = path.relative_to(self._state_dir).as_posix()
            if path.is_file() and not _local_only(relative):
                paths.add(relative)
        return paths

    def _safe(self, relative: str) -> Path:
        path = (self._state_dir / relative).resolve()
        if not path.is_relative_to(self._state_dir.resolve()) or _local_only(relative):
            raise ValueError(f"not a state file path: {relative!r}")
        return path


def _local_only(relative: str) -> bool:
    """The SQLite inbox and temporary files never go to the database."""
    name = relative.rsplit("/", 1)[-1]
    return relative.startswith("inbox.sqlite3") or name.startswith(".") or name.endswith(".tmp")


async def _unlock(connection: AsyncConnection[Any], lock_id: int) -> None:
    try:
        await connection.execute("SELECT pg_advisory_unlock(%s)", (lock_id,))
    except Exception:  # noqa: BLE001 - a broken connection: the server drops its locks with it
        log.warning("could not release a PR lock; the connection is dropped instead")
        await connection.close()


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _sha_of(path: Path) -> str | None:
    text = _read_text(path)
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _delivery(row: tuple[Any, ...], attempts_delta: int = 0) -> Delivery:
    (delivery_id, event, action, installation_id, repo, lane, body, received_at, seq, state, attempts, last_error) = row
    return Delivery(delivery_id=delivery_id, event=event, action=action, installation_id=installation_id, repo=repo,
                    lane=lane, body=bytes(body), received_at=received_at, seq=seq, state=state,
                    attempts=attempts + attempts_delta, last_error=last_error)
