"""The delivery journal: every accepted webhook is written here, durably, before GitHub gets its 202.

SQLite (stdlib) in WAL mode, `synchronous=FULL` by default (a commit survives power loss, not
just a crash of the process). Writes are group-committed: an operation queues itself and the
first one in an event-loop tick schedules a flush with `call_soon`, so every request that reached
its journal write in that tick shares one transaction and one fsync. The connection lives on the
event-loop thread on purpose. Measured with bench/webhook.py (2 CPUs, 30 KB payloads, 200 in
flight): a dedicated writer thread was *slower* (1.4–1.5 k/s vs 1.8–2.2 k/s) because every
statement releases and re-takes the GIL and waits behind the busy loop thread for it; savepoints
around each operation cost ~3 statements per delivery and were dropped (see _run_batch). WAL
checkpoints, the one slow step, run in a thread on their own connection.

Bodies are not in SQLite: each batch appends them to a segment file (segments.py; O_DIRECT
where allowed), fdatasyncs it, and only then COMMITs the rows, which hold (segment, offset,
length). In SQLite each ~27 KB body was written twice (WAL, then checkpoint) with WAL checksums
over 64 KB pages; now it is written once and the rows are ~150 bytes, so new journals use 4 KB
pages (each random delivery id dirties one primary-key leaf, which the WAL writes whole). A crash
between the body write and the COMMIT leaves garbage in a segment, never a row without its bytes.
Segments nobody pending needs are deleted (checked when one fills, 64 MB, and at open); a finally
failed delivery's body is copied into its row first, so a done delivery's body may be gone, a
failed one's never. Journals from before keep their inline bodies (`segment` NULL) and 64 KB pages.

Measured with bench/journal.py (6,000 records of 27 KB, 200 in flight, UUID ids; CPU per record,
all threads; before -> buffered segment writes -> O_DIRECT): fresh journal 63–93 -> 34–56 ->
30–35 µs (46 once); sequential ids 61–69 -> 29–50 -> 26–31 µs; after 300,000 earlier deliveries
119–205 -> 54–75 -> 44–47 µs (segments with 64 KB pages stayed at 110–140: the index leaves);
20 in flight 80–90 -> 50–57 -> 46–48 µs. Tried and dropped: no state index, checkpoints every 16
or 256 commits, 16 KB pages with inline bodies (noise or worse); a 64 MB SQLite cache, 1–2 KB
pages, 256 KB or 4 MB O_DIRECT chunks (no better). bench/webhook.py, "GitHub on time", six
interleaved pairs (one stalled outlier dropped): server CPU per delivery 191–276 -> 169–225 µs,
acks/s 4.6–5.8 k -> 4.5–6.1 k (noisy; on the loop thread, the one that limits acks/s, the journal
costs ~10 µs a delivery either way: what it saved was mostly in the commit threads).

Tables:
  deliveries(delivery_id PK, event, action, installation_id, repo, lane, body, received_at,
             state pending|done|failed, attempts, last_error, finished_at,
             segment, body_offset, body_length)  -- body is empty when segment is set
  handled(key PK, delivery_id, at)  -- idempotency keys for handlers (`Context.once`)
  segments(id PK, created_at, deleted_at)  -- every segment file ever started; ids never reused
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bot.service.segments import SEGMENT_BYTES, Append, BodySegments, fsync_directory, segments_on_disk

PENDING, DONE, FAILED = "pending", "done", "failed"
_CHECKPOINT_EVERY_COMMITS = 64  # WAL checkpoints in the background, this often
# How long a write that need not be durable at once (`mark_done(..., soon=True)`) may wait for a
# batch to join before it commits on its own: under load it rides along with the next records.
_SOON_SECONDS = 0.05
_PAGE_SIZE = 4096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id     TEXT PRIMARY KEY,  -- the rowid is the received order ("seq")
    event           TEXT NOT NULL,
    action          TEXT,
    installation_id INTEGER,
    repo            TEXT,
    lane            TEXT NOT NULL,
    body            BLOB NOT NULL,     -- empty when the body is in a segment file (below)
    received_at     REAL NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    finished_at     REAL,
    segment         INTEGER,           -- where the body is: segments.py; NULL = inline in `body`
    body_offset     INTEGER,
    body_length     INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (state);  -- rowid order within a state
CREATE TABLE IF NOT EXISTS handled (
    key         TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    at          REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS segments (  -- one row per body file ever started, so ids are never reused
    id          INTEGER PRIMARY KEY,
    created_at  REAL NOT NULL,
    deleted_at  REAL                   -- set when no unfinished delivery needed it any more
);
"""
_BODY_COLUMNS = ("segment", "body_offset", "body_length")  # added to journals from before segments

log = logging.getLogger(__name__)
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


class WorkJournal(Protocol):
    """What the worker (and `Context.once`) needs of the journal: the Journal itself when the
    worker runs in the web process, its stand-in across the pipe when it runs in its own
    (worker_process.py)."""

    async def mark_done(self, delivery_id: str) -> None: ...

    async def mark_attempt_failed(self, delivery_id: str, error: str, *, final: bool) -> int: ...

    async def once(self, key: str, delivery_id: str) -> bool: ...


class JournalClosed(RuntimeError):
    pass


class JournalInUse(RuntimeError):
    """Another Journal (in this process or another) has this journal open: its segment files
    would not be safe from this one's clean-up."""


class Journal:
    """Create with `await Journal.open(path)`; use from the one event loop that opened it."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"unknown SQLite synchronous mode {synchronous!r}")
        self.path = path
        self._synchronous = synchronous.upper()
        self._closed = False
        self._connection: sqlite3.Connection | None = None
        self._batch: list[tuple[Operation, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._soon: asyncio.TimerHandle | None = None  # a pending flush for writes that can wait
        # One thread for COMMIT (WAL write + fsync): a single call, so a single GIL hand-off.
        self._committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-commit")
        self._uncheckpointed_commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        self._bodies: BodySegments | None = None
        self._segment_registered = False  # has the current segment's row been committed?
        self._rotation: asyncio.Task[None] | None = None
        self._lock_fd: int | None = None

    @classmethod
    async def open(cls, path: Path, synchronous: str = "FULL") -> Journal:
        journal = cls(path, synchronous)
        journal._lock_fd = _lock_exclusively(path)
        try:
            journal._connection = journal._connect()
            journal._bodies = journal._open_bodies(journal._connection)
        except BaseException:
            _unlock(journal._lock_fd)
            raise
        return journal

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the committer thread runs COMMIT while the loop waits for it;
        # the two never use the connection at the same time (one flusher, see _flush_all).
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # 4 KB pages: rows are small now that bodies live in segment files, and every random
        # delivery id (a UUID) dirties one leaf of the primary-key index per insert, which the
        # WAL writes whole. (New files only; journals from before keep their 64 KB pages.)
        connection.execute(f"PRAGMA page_size={_PAGE_SIZE}")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={self._synchronous}")
        connection.execute("PRAGMA busy_timeout=5000")
        # Copying the WAL back into the database (megabytes, plus fsync) must not stall the
        # event loop: checkpoints run on another connection, in a thread (_checkpoint_in_thread).
        connection.execute("PRAGMA wal_autocheckpoint=0")
        connection.executescript(_SCHEMA)
        _add_body_columns(connection)
        return connection

    def _open_bodies(self, connection: sqlite3.Connection) -> BodySegments:
        """Start a fresh segment (never append after a crash's garbage) and drop unneeded files."""
        directory = self.path.with_name(self.path.name + "-bodies")
        _make_directory(directory, sync=self._synchronous != "OFF")
        on_disk = segments_on_disk(directory)
        known = connection.execute("SELECT MAX(id) FROM segments").fetchone()[0] or 0
        bodies = BodySegments(directory, max([known, *on_disk]) + 1, sync=self._synchronous != "OFF",
                              segment_bytes=SEGMENT_BYTES)
        connection.execute("BEGIN IMMEDIATE")
        _mark_segments_deleted(connection, bodies.current)
        connection.execute("COMMIT")
        live = {segment for (segment,) in connection.execute("SELECT id FROM segments WHERE deleted_at IS NULL")}
        # Files of deleted segments, and of segments whose first batch never committed: garbage.
        bodies.delete(segment for segment in on_disk if segment not in live)
        return bodies

    # ---- group commit ------------------------------------------------------------------------

    def _submit_loop(self, operation: Operation, *, soon: bool = False) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._batch.append((operation, future))
        if self._flusher is not None and not self._flusher.done():
            return future  # while a COMMIT is in flight the next batch gathers behind it
        if soon:
            if self._soon is None:
                self._soon = loop.call_later(_SOON_SECONDS, self._start_flusher)
        else:
            self._start_flusher()
        return future

    def _start_flusher(self) -> None:
        # The flusher starts on the next loop iteration, so every request that reached its
        # journal write in this one shares its transaction.
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        if self._batch and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.get_running_loop().create_task(self._flush_all())

    async def _flush_all(self) -> None:
        while self._batch:
            batch, self._batch = self._batch, []
            if self._connection is None:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(JournalClosed(str(self.path)))
                continue
            await self._run_batch(self._connection, batch)
            self._uncheckpointed_commits += 1
            if self._uncheckpointed_commits >= _CHECKPOINT_EVERY_COMMITS and (
                self._checkpoint is None or self._checkpoint.done()
            ):
                self._uncheckpointed_commits = 0
                self._checkpoint = asyncio.get_running_loop().create_task(self._checkpoint_in_thread())

    async def _run_batch(self, connection: sqlite3.Connection, batch: list[tuple[Operation, Any]]) -> None:
        """Run a batch as one transaction (one commit, one fsync); report results only after COMMIT.

        The statements run on the loop (in memory, microseconds each); the COMMIT, which writes
        the WAL and fsyncs, runs in the committer thread. If any operation fails, the batch is
        rolled back and each operation rerun in its own transaction, so one bad operation never
        takes its neighbours down. (Savepoints around every operation would do the same at three
        extra statements each, on the hot path.)
        """
        results: list[tuple[Any, bool, Any]] = []
        bodies = self._body_segments()
        if bodies.roll_if_full():
            self._segment_registered = False
            self._schedule_rotation()
        try:
            connection.execute("BEGIN IMMEDIATE")
            if not self._segment_registered:
                connection.execute("INSERT OR IGNORE INTO segments (id, created_at) VALUES (?, ?)", (bodies.current, time.time()))
            for operation, future in batch:
                results.append((future, True, operation(connection)))
            append = bodies.take_pending()
            await asyncio.get_running_loop().run_in_executor(self._committer, self._commit, connection, append)
            self._segment_registered = True
        except Exception as error:  # noqa: BLE001 - retried one by one below, or handed to the caller
            bodies.discard_pending()
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if len(batch) == 1:
                results = [(batch[0][1], False, error)]
            else:
                for single in batch:
                    await self._run_batch(connection, [single])
                return
        for future, ok, value in results:
            if future.done():  # the awaiting coroutine was cancelled (client went away)
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _commit(self, connection: sqlite3.Connection, append: Append | None) -> None:
        """Committer thread: the batch's bodies, durable, and only then the rows pointing at them."""
        if append is not None:
            self._body_segments().write(append)
        connection.execute("COMMIT")

    def _body_segments(self) -> BodySegments:
        if self._bodies is None:
            raise JournalClosed(str(self.path))
        return self._bodies

    def _schedule_rotation(self) -> None:
        if self._rotation is None or self._rotation.done():
            self._rotation = asyncio.get_running_loop().create_task(self._rotate())

    async def _rotate(self) -> None:
        """Delete the files of segments no unfinished delivery needs (bounded disk use)."""
        try:
            bodies = self._body_segments()
            deletable = await self._submit(lambda connection: _mark_segments_deleted(connection, bodies.current))
            if deletable and self._synchronous not in ("FULL", "EXTRA"):
                # Without a sync per commit, the commits that finished these deliveries may not
                # be on disk yet: a checkpoint makes them durable before their bodies go.
                await self._checkpoint_in_thread(strict=True)
            await asyncio.get_running_loop().run_in_executor(None, bodies.delete, deletable)
        except JournalClosed:
            pass  # shutting down: the next open rotates
        except (OSError, sqlite3.Error) as error:  # a later roll, or the next open, retries
            log.warning("journal segment rotation failed: %s", error)

    async def _checkpoint_in_thread(self, *, strict: bool = False) -> None:
        """Copy the WAL into the database. `strict`: all of it (FULL checkpoint), or raise."""

        def checkpoint() -> None:
            connection = sqlite3.connect(self.path, isolation_level=None)
            try:
                connection.execute("PRAGMA busy_timeout=5000")
                busy, _, _ = connection.execute(f"PRAGMA wal_checkpoint({'FULL' if strict else 'PASSIVE'})").fetchone()
                if strict and busy:
                    raise sqlite3.OperationalError("the checkpoint could not finish (busy)")
            finally:
                connection.close()

        if strict:
            await asyncio.get_running_loop().run_in_executor(None, checkpoint)
            return
        try:
            await asyncio.get_running_loop().run_in_executor(None, checkpoint)
        except sqlite3.Error as error:  # the next one will catch up; the WAL is still durable
            log.warning("journal checkpoint failed: %s", error)

    async def _submit(self, operation: Callable[[sqlite3.Connection], T], *, soon: bool = False) -> T:
        if self._closed:
            raise JournalClosed(str(self.path))
        return await self._submit_loop(operation, soon=soon)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._start_flusher()  # writes waiting for company go now
        if self._flusher is not None:
            await asyncio.shield(self._flusher)  # what was accepted gets committed
        if self._rotation is not None:
            await self._rotation
        if self._checkpoint is not None:
            await self._checkpoint
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._committer.shutdown(wait=True)
        if self._bodies is not None:
            self._bodies.close()
            self._bodies = None
        if self._lock_fd is not None:
            _unlock(self._lock_fd)
            self._lock_fd = None

    # ---- operations --------------------------------------------------------------------

    async def record(self, delivery: NewDelivery) -> bool:
        """Journal a delivery; False when its id was journalled before (a redelivery)."""

        def insert(connection: sqlite3.Connection) -> bool:
            # The row holds only where the body will be; the body goes to the segment file in
            # this batch's commit (_commit), so the SQLite pages stay small.
            bodies = self._body_segments()
            cursor = connection.execute(
                "INSERT OR IGNORE INTO deliveries (delivery_id, event, action, installation_id, repo, lane,"
                " body, received_at, segment, body_offset, body_length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (delivery.delivery_id, delivery.event, delivery.action, delivery.installation_id,
                 delivery.repo, delivery.lane, b"", delivery.received_at,
                 bodies.current, bodies.next_offset(), len(delivery.body)),
            )
            if cursor.rowcount != 1:
                return False
            bodies.add(delivery.body)
            return True

        return await self._submit(insert)

    async def unfinished(self) -> list[Delivery]:
        """Pending deliveries in received order: what the worker resumes after a restart.

        One whose body cannot be read (its segment file lost outside the journal) is logged and
        left pending for a person to look at, not handed to the worker as an empty body."""
        deliveries = await self._submit(
            lambda connection: [
                self._row_to_delivery(row, missing_body=None)
                for row in connection.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE state = ? ORDER BY rowid", (PENDING,))
            ]
        )
        return [delivery for delivery in deliveries if delivery is not None]

    async def get(self, delivery_id: str) -> Delivery | None:
        def select(connection: sqlite3.Connection) -> Delivery | None:
            row = connection.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE delivery_id = ?", (delivery_id,)).fetchone()
            return None if row is None else self._row_to_delivery(row)

        return await self._submit(select)

    async def mark_done(self, *delivery_ids: str, soon: bool = False) -> None:
        """`soon`: the marks may wait (up to _SOON_SECONDS) to share the next batch's commit —
        for callers that can afford it, since a mark lost in a crash only means the delivery
        runs again (handlers are idempotent)."""
        finished_at = time.time()
        await self._submit(
            lambda connection: connection.executemany(
                "UPDATE deliveries SET state = ?, finished_at = ?, attempts = attempts + 1 WHERE delivery_id = ?",
                [(DONE, finished_at, delivery_id) for delivery_id in delivery_ids],
            ),
            soon=soon,
        )

    async def mark_attempt_failed(self, delivery_id: str, error: str, *, final: bool) -> int:
        """Count a failed attempt; `final` gives up on the delivery. Returns the attempts so far."""

        def update(connection: sqlite3.Connection) -> int:
            if final:
                self._inline_body(connection, delivery_id)
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


    # ---- bodies ------------------------------------------------------------------------

    def _row_to_delivery(self, row: tuple[Any, ...], missing_body: bytes | None = b"") -> Delivery | None:
        """`missing_body`: what stands for a body that cannot be read (None: no Delivery at all)."""
        (delivery_id, event, action, installation_id, repo, lane, body, received_at, seq, state, attempts, last_error,
         segment, offset, length) = row
        if segment is not None:
            body = self._read_body(delivery_id, state, segment, offset, length)
            if body is None:
                if missing_body is None:
                    return None
                body = missing_body
        return Delivery(
            delivery_id=delivery_id, event=event, action=action, installation_id=installation_id, repo=repo, lane=lane,
            body=bytes(body), received_at=received_at, seq=seq, state=state, attempts=attempts, last_error=last_error,
        )

    def _read_body(self, delivery_id: str, state: str, segment: int, offset: int, length: int) -> bytes | None:
        body = self._body_segments().read(segment, offset, length)
        if body is None or len(body) != length:
            # Expected for finished deliveries (their segment may be deleted); never for pending ones.
            if state == PENDING:
                log.error("journal: body of pending delivery %s missing from segment %d; left pending", delivery_id, segment)
            return None
        return body

    def _inline_body(self, connection: sqlite3.Connection, delivery_id: str) -> None:
        """Copy a finally failed delivery's body into its row: kept for inspection, and its
        segment can still be deleted once the rest of it is done. (Rare, so the copy is cheap.)"""
        row = connection.execute(
            "SELECT segment, body_offset, body_length FROM deliveries WHERE delivery_id = ? AND segment IS NOT NULL",
            (delivery_id,),
        ).fetchone()
        body = None if row is None else self._body_segments().read(*row)
        if body is not None and len(body) == row[2]:  # a short read is not the body
            connection.execute(
                "UPDATE deliveries SET body = ?, segment = NULL, body_offset = NULL, body_length = NULL WHERE delivery_id = ?",
                (body, delivery_id),
            )


_COLUMNS = (
    "delivery_id, event, action, installation_id, repo, lane, body, received_at, rowid, state, attempts, last_error,"
    " segment, body_offset, body_length"
)


def _add_body_columns(connection: sqlite3.Connection) -> None:
    """Journals from before segment files keep their inline bodies and gain the columns for new ones."""
    existing = {row[1] for row in connection.execute("PRAGMA table_info(deliveries)")}
    for column in _BODY_COLUMNS:
        if column not in existing:
            connection.execute(f"ALTER TABLE deliveries ADD COLUMN {column} INTEGER")


def _mark_segments_deleted(connection: sqlite3.Connection, current: int) -> list[int]:
    """Mark every older segment no pending delivery points into as deleted; return their ids.

    (Failed deliveries had their bodies copied inline, so only pending ones keep a segment.)
    """
    deletable = [
        segment
        for (segment,) in connection.execute(
            "SELECT id FROM segments WHERE deleted_at IS NULL AND id < ? AND id NOT IN"
            " (SELECT segment FROM deliveries WHERE state = ? AND segment IS NOT NULL)",
            (current, PENDING),
        )
    ]
    connection.executemany("UPDATE segments SET deleted_at = ? WHERE id = ?", [(time.time(), segment) for segment in deletable])
    return deletable


def _lock_exclusively(path: Path) -> int:
    """flock `<journal>.lock`: held for as long as the journal is open, released by the kernel if
    the process dies. Per open file, so a second open in the same process is refused too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise JournalInUse(f"{path} is open in another service (one journal, one service)") from None
    return fd


def _unlock(fd: int) -> None:
    os.close(fd)  # closing the only descriptor of that open file drops the flock


def _make_directory(directory: Path, *, sync: bool) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if sync:  # its name must survive a power loss too (even if made by a run that then crashed)
        fsync_directory(directory.parent)
