"""The inbox: one table of webhook deliveries, in SQLite (a file in BOT_STATE_DIR).

The intake inserts a verified delivery in one transaction before it answers 202; the worker
claims the oldest pending delivery of each lane (one PR), handles it and marks it done or
failed. Everything the service must not forget between two starts is a row here.

  inbox(seq, delivery_id UNIQUE, event, action, installation_id, repo, lane, body, received_at,
        state, attempts, not_before, claimed_by, last_error, finished_at)
  handled(key PRIMARY KEY, delivery_id, at)   -- idempotency keys for handlers (`Context.once`)
  instances(id PRIMARY KEY, seen_at)          -- who holds claims, and whether it is still alive

Claims: only the *head* of a lane (its lowest pending seq) can be claimed, so one PR's
deliveries are handled in received order, by one worker at a time, across instances. A claim
is an instance id; an instance that stops cleanly releases its claims, and one that died
(kill -9, a lost machine) stops refreshing `instances.seen_at`, so after `takeover_after`
seconds another instance, or the next start, takes its claims over. `attempts` counts an
attempt when it is claimed, so a delivery that takes its process down is not retried forever.

Retention: finished rows are pruned after RETENTION (7 days; GitHub lets an App owner redeliver
a delivery for 3 days, so dedupe by X-GitHub-Delivery outlives every redelivery), handled keys
after HANDLED_RETENTION (30 days).
"""
from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

PENDING, DONE, FAILED = "pending", "done", "failed"
RETENTION_SECONDS = 7 * 24 * 3600
HANDLED_RETENTION_SECONDS = 30 * 24 * 3600
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    action TEXT,
    installation_id INTEGER,
    repo TEXT,
    lane TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    claimed_by TEXT,
    last_error TEXT,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (lane, seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS inbox_finished ON inbox (finished_at) WHERE state != 'pending';
CREATE TABLE IF NOT EXISTS handled (key TEXT PRIMARY KEY, delivery_id TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS instances (id TEXT PRIMARY KEY, seen_at REAL NOT NULL);
"""
_COLUMNS = "delivery_id, event, action, installation_id, repo, lane, body, received_at, seq, state, attempts, last_error"


@dataclass(frozen=True)
class NewDelivery:
    """What the intake knows about a verified delivery."""

    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repo: str | None  # "owner/name"
    lane: str  # deliveries with one lane are handled one at a time, in received order
    body: bytes  # the raw, verified body
    received_at: float  # epoch seconds


@dataclass(frozen=True)
class Delivery(NewDelivery):
    seq: int  # received order
    state: str
    attempts: int  # attempts begun, this one included once claimed
    last_error: str | None


class Inbox(Protocol):
    """What the intake, the worker and `Context.once` use: SqliteInbox, or PostgresInbox
    (bot/store/postgres.py) when DATABASE_URL is set. Same tables, same rules."""

    instance: str
    takeover_after: float

    async def close(self) -> None: ...
    async def record(self, delivery: NewDelivery) -> bool: ...
    async def heartbeat(self) -> None: ...
    async def claim(self, *, skip_lanes: set[str], limit: int) -> list[Delivery]: ...
    async def next_due(self) -> float | None: ...
    async def mark_done(self, delivery_id: str) -> None: ...
    async def mark_failed(self, delivery_id: str, error: str) -> None: ...
    async def retry_later(self, delivery_id: str, error: str, delay: float) -> None: ...
    async def once(self, key: str, delivery_id: str) -> bool: ...
    async def prune(self, now: float | None = None) -> int: ...
    async def get(self, delivery_id: str) -> Delivery | None: ...
    async def counts(self) -> dict[str, int]: ...


class SqliteInbox:
    """The SQLite inbox. One connection, used from one thread, so calls never block the loop."""

    def __init__(self, path: Path, *, takeover_after: float = 30.0) -> None:
        self.instance = uuid.uuid4().hex  # this service's claims
        self.takeover_after = takeover_after
        self._path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox")
        self._connection: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path, *, takeover_after: float = 30.0) -> SqliteInbox:
        inbox = cls(path, takeover_after=takeover_after)
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.get_running_loop().run_in_executor(inbox._thread, inbox._connect)
        await inbox.heartbeat()
        return inbox

    def _connect(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        connection.execute("PRAGMA synchronous=FULL")  # a 202 means the row survives a power cut
        connection.execute("PRAGMA busy_timeout=5000")  # another instance on the same file
        connection.executescript(_SCHEMA)
        self._connection = connection

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def in_thread() -> T:
            assert self._connection is not None, "the inbox is closed"
            return work(self._connection)

        return await asyncio.get_running_loop().run_in_executor(self._thread, in_thread)

    async def close(self) -> None:
        """Release this instance's claims (they resume at the next start, or on another instance)."""
        def leave(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                connection.execute("UPDATE inbox SET claimed_by = NULL, attempts = attempts - 1 "
                                   "WHERE claimed_by = ? AND state = 'pending'", (self.instance,))
                connection.execute("DELETE FROM instances WHERE id = ?", (self.instance,))
            connection.close()
            self._connection = None

        if self._connection is not None:
            await self._run(leave)
        self._thread.shutdown(wait=True)

    # ---- intake ----------------------------------------------------------------------------

    async def record(self, delivery: NewDelivery) -> bool:
        """Insert a delivery; False if its X-GitHub-Delivery id was seen before (a duplicate)."""
        def insert(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO inbox (delivery_id, event, action, installation_id, repo, lane, body, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (delivery.delivery_id, delivery.event, delivery.action, delivery.installation_id, delivery.repo,
                 delivery.lane, delivery.body, delivery.received_at),
            )
            return cursor.rowcount == 1

        return await self._run(insert)

    # ---- worker ----------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Say this instance is alive, so its claims are not taken over."""
        now = time.time()
        await self._run(lambda connection: connection.execute(
            "INSERT INTO instances (id, seen_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            (self.instance, now)))

    async def claim(self, *, skip_lanes: set[str], limit: int) -> list[Delivery]:
        """Claim up to `limit` lane heads that are due and unclaimed (or claimed by a dead instance)."""
        now = time.time()

        def claim_heads(connection: sqlite3.Connection) -> list[Delivery]:
            with _transaction(connection):
                rows = connection.execute(
                    f"SELECT {_COLUMNS}, claimed_by FROM inbox AS head WHERE state = 'pending' AND not_before <= ? "
                    "AND seq = (SELECT MIN(seq) FROM inbox WHERE lane = head.lane AND state = 'pending') "
                    "AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT id FROM instances WHERE seen_at > ?)) "
                    "ORDER BY seq",
                    (now, now - self.takeover_after),
                ).fetchall()
                claimed = []
                for row in rows:
                    if row[5] in skip_lanes:
                        continue
                    connection.execute("UPDATE inbox SET claimed_by = ?, attempts = attempts + 1 WHERE seq = ?",
                                       (self.instance, row[8]))
                    claimed.append(_delivery(row[:-1], attempts_delta=1))
                    if len(claimed) >= limit:
                        break
                connection.execute("DELETE FROM instances WHERE seen_at <= ?", (now - 10 * self.takeover_after,))
                return claimed

        return await self._run(claim_heads)

    async def next_due(self) -> float | None:
        """When the earliest lane head nobody alive holds is due (epoch seconds); None if none."""
        now = time.time()
        row = await self._run(lambda connection: connection.execute(
            "SELECT MIN(not_before) FROM inbox AS head WHERE state = 'pending' "
            "AND seq = (SELECT MIN(seq) FROM inbox WHERE lane = head.lane AND state = 'pending') "
            "AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT id FROM instances WHERE seen_at > ?))",
            (now - self.takeover_after,)).fetchone())
        return row[0] if row else None

    async def mark_done(self, delivery_id: str) -> None:
        await self._finish(delivery_id, DONE, None)

    async def mark_failed(self, delivery_id: str, error: str) -> None:
        await self._finish(delivery_id, FAILED, error)

    async def retry_later(self, delivery_id: str, error: str, delay: float) -> None:
        """Release the claim; the delivery stays its lane's head, so later ones wait behind it."""
        not_before = time.time() + delay
        await self._run(lambda connection: connection.execute(
            "UPDATE inbox SET claimed_by = NULL, last_error = ?, not_before = ? WHERE delivery_id = ?",
            (error, not_before, delivery_id)))

    async def _finish(self, delivery_id: str, state: str, error: str | None) -> None:
        now = time.time()
        await self._run(lambda connection: connection.execute(
            "UPDATE inbox SET state = ?, claimed_by = NULL, last_error = COALESCE(?, last_error), finished_at = ? "
            "WHERE delivery_id = ?", (state, error, now, delivery_id)))

    async def once(self, key: str, delivery_id: str) -> bool:
        """Claim an idempotency key: True the first time, and again for the *same* delivery (its
        retry must finish what it started); False once another delivery claimed it."""
        now = time.time()

        def claim_key(connection: sqlite3.Connection) -> bool:
            connection.execute("INSERT OR IGNORE INTO handled (key, delivery_id, at) VALUES (?, ?, ?)", (key, delivery_id, now))
            row = connection.execute("SELECT delivery_id FROM handled WHERE key = ?", (key,)).fetchone()
            return row is not None and row[0] == delivery_id

        return await self._run(claim_key)

    async def prune(self, now: float | None = None) -> int:
        """Forget finished deliveries and handled keys past their retention. Returns rows removed."""
        now = time.time() if now is None else now

        def delete(connection: sqlite3.Connection) -> int:
            with _transaction(connection):
                removed = connection.execute("DELETE FROM inbox WHERE state != 'pending' AND finished_at < ?",
                                             (now - RETENTION_SECONDS,)).rowcount
                removed += connection.execute("DELETE FROM handled WHERE at < ?", (now - HANDLED_RETENTION_SECONDS,)).rowcount
                return removed

        return await self._run(delete)

    # ---- inspection (health, tests, the bench) -------------------------------------------------

    async def get(self, delivery_id: str) -> Delivery | None:
        row = await self._run(lambda connection: connection.execute(
            f"SELECT {_COLUMNS} FROM inbox WHERE delivery_id = ?", (delivery_id,)).fetchone())
        return _delivery(row) if row else None

    async def counts(self) -> dict[str, int]:
        """Deliveries per state."""
        return await self._run(lambda connection: dict(
            connection.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state").fetchall()))


class _transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error): the write lock from the start, so two
    instances claiming at once wait for each other instead of failing to upgrade."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def __enter__(self) -> None:
        self._connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self._connection.execute("ROLLBACK" if kind is not None else "COMMIT")


def _delivery(row: tuple[Any, ...], attempts_delta: int = 0) -> Delivery:
    (delivery_id, event, action, installation_id, repo, lane, body, received_at, seq, state, attempts, last_error) = row
    return Delivery(delivery_id=delivery_id, event=event, action=action, installation_id=installation_id, repo=repo,
                    lane=lane, body=bytes(body), received_at=received_at, seq=seq, state=state,
                    attempts=attempts + attempts_delta, last_error=last_error)
