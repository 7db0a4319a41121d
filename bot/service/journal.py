"""The delivery journal: every accepted webhook is written here, durably, before GitHub gets its 202.

SQLite (stdlib) in WAL mode. One dedicated writer thread owns the only connection and runs
whatever is queued *as one transaction* (group commit): under a burst of 200 deliveries the
cost of `synchronous=FULL` — one fsync per commit, ~0.3 ms here — is paid once per batch, not
once per delivery, so we can afford full durability (survives power loss, not just a crash of
the process) while the event loop never blocks on disk. bench/webhook.py measures it.

Tables:
  deliveries(delivery_id PK, event, action, installation_id, repo, lane, body, received_at,
             state pending|done|failed, attempts, last_error, finished_at)
  handled(key PK, delivery_id, at)  -- idempotency keys for handlers (`Context.once`)
"""
from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

PENDING, DONE, FAILED = "pending", "done", "failed"
_MAX_BATCH = 512  # operations per transaction; bounds how long one commit holds the writer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id     TEXT PRIMARY KEY,  -- the rowid is the received order ("seq")
    event           TEXT NOT NULL,
    action          TEXT,
    installation_id INTEGER,
    repo            TEXT,
    lane            TEXT NOT NULL,
    body            BLOB NOT NULL,
    received_at     REAL NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    finished_at     REAL
);
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (state);  -- rowid order within a state
CREATE TABLE IF NOT EXISTS handled (
    key         TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    at          REAL NOT NULL
);
"""

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]


@dataclass(frozen=True)
class NewDelivery:
    """What the intake knows about a verified delivery."""

    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repo: str | None  # "owner/name"
    lane: str  # serialisation key: deliveries with one lane are handled one at a time, in order
    body: bytes  # the raw, verified body
    received_at: float  # epoch seconds


@dataclass(frozen=True)
class Delivery(NewDelivery):
    seq: int  # received order
    state: str
    attempts: int
    last_error: str | None


class JournalClosed(RuntimeError):
    pass


class Journal:
    """Async facade over the writer thread. Create with `await Journal.open(path)`."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"unknown SQLite synchronous mode {synchronous!r}")
        self.path = path
        self._synchronous = synchronous.upper()
        self._queue: queue.SimpleQueue[tuple[Operation, Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready: Future[None] = Future()
        self._closed = False

    @classmethod
    async def open(cls, path: Path, synchronous: str = "FULL") -> Journal:
        journal = cls(path, synchronous)
        journal._thread = threading.Thread(target=journal._run, name=f"journal:{path.name}", daemon=True)
        journal._thread.start()
        await asyncio.wrap_future(journal._ready)
        return journal

    # ---- the writer thread -------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={self._synchronous}")
        connection.execute("PRAGMA busy_timeout=5000")
        connection.executescript(_SCHEMA)
        return connection

    def _run(self) -> None:
        try:
            connection = self._connect()
        except BaseException as error:  # report to open(), then stop
            self._ready.set_exception(error)
            return
        self._ready.set_result(None)
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < _MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        self._queue.put(None)  # finish this batch, then stop
                        break
                    batch.append(item)
                self._run_batch(connection, batch)
        finally:
            connection.close()

    @staticmethod
    def _run_batch(connection: sqlite3.Connection, batch: list[tuple[Operation, Future[Any]]]) -> None:
        # One transaction for the whole batch; a savepoint per operation so one failing
        # operation is rolled back alone and does not poison its neighbours.
        results: list[tuple[Future[Any], bool, Any]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for operation, future in batch:
                connection.execute("SAVEPOINT op")
                try:
                    results.append((future, True, operation(connection)))
                    connection.execute("RELEASE op")
                except Exception as error:  # noqa: BLE001 - handed to the awaiting coroutine
                    connection.execute("ROLLBACK TO op")
                    connection.execute("RELEASE op")
                    results.append((future, False, error))
            connection.execute("COMMIT")
        except Exception as error:  # noqa: BLE001 - the commit failed: nothing in the batch is durable
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for future, ok, value in results:  # only now, after COMMIT, is anything reported done
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    async def _submit(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise JournalClosed(str(self.path))
        future: Future[T] = Future()
        self._queue.put((operation, future))
        return await asyncio.wrap_future(future)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)

    # ---- operations --------------------------------------------------------------------

    async def record(self, delivery: NewDelivery) -> bool:
        """Journal a delivery; False when its id was journalled before (a redelivery)."""

        def insert(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO deliveries (delivery_id, event, action, installation_id, repo, lane,"
                " body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (delivery.delivery_id, delivery.event, delivery.action, delivery.installation_id,
                 delivery.repo, delivery.lane, delivery.body, delivery.received_at),
            )
            return cursor.rowcount == 1

        return await self._submit(insert)

    async def unfinished(self) -> list[Delivery]:
        """Pending deliveries in received order: what the worker resumes after a restart."""
        return await self._submit(
            lambda connection: [
                _row_to_delivery(row)
                for row in connection.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE state = ? ORDER BY rowid", (PENDING,))
            ]
        )

    async def get(self, delivery_id: str) -> Delivery | None:
        def select(connection: sqlite3.Connection) -> Delivery | None:
            row = connection.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE delivery_id = ?", (delivery_id,)).fetchone()
            return None if row is None else _row_to_delivery(row)

        return await self._submit(select)

    async def mark_done(self, delivery_id: str) -> None:
        await self._submit(
            lambda connection: connection.execute(
                "UPDATE deliveries SET state = ?, finished_at = ?, attempts = attempts + 1 WHERE delivery_id = ?",
                (DONE, time.time(), delivery_id),
            )
        )

    async def mark_attempt_failed(self, delivery_id: str, error: str, *, final: bool) -> int:
        """Count a failed attempt; `final` gives up on the delivery. Returns the attempts so far."""

        def update(connection: sqlite3.Connection) -> int:
            connection.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, state = ?, finished_at = ?"
                " WHERE delivery_id = ?",
                (error[:4000], FAILED if final else PENDING, time.time() if final else None, delivery_id),
            )
            row = connection.execute("SELECT attempts FROM deliveries WHERE delivery_id = ?", (delivery_id,)).fetchone()
            return int(row[0]) if row else 0

        return await self._submit(update)

    async def once(self, key: str, delivery_id: str) -> bool:
        """Claim an idempotency key for a delivery.

        True the first time the key is seen, and again for the *same* delivery (a retry after a
        crash must be allowed to finish what it started); False once another delivery claimed it.
        """

        def claim(connection: sqlite3.Connection) -> bool:
            connection.execute(
                "INSERT OR IGNORE INTO handled (key, delivery_id, at) VALUES (?, ?, ?)", (key, delivery_id, time.time())
            )
            row = connection.execute("SELECT delivery_id FROM handled WHERE key = ?", (key,)).fetchone()
            return row is not None and row[0] == delivery_id

        return await self._submit(claim)

    async def counts(self) -> dict[str, int]:
        """Deliveries per state (for /health and the bench)."""
        return await self._submit(
            lambda connection: dict(connection.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())
        )


_COLUMNS = "delivery_id, event, action, installation_id, repo, lane, body, received_at, rowid, state, attempts, last_error"


def _row_to_delivery(row: tuple[Any, ...]) -> Delivery:
    (delivery_id, event, action, installation_id, repo, lane, body, received_at, seq, state, attempts, last_error) = row
    return Delivery(
        delivery_id=delivery_id, event=event, action=action, installation_id=installation_id, repo=repo, lane=lane,
        body=bytes(body), received_at=received_at, seq=seq, state=state, attempts=attempts, last_error=last_error,
    )
