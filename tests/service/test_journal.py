"""The SQLite journal: durable, deduplicating, resumable, and group-committing under load."""
from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from bot.service.journal import Journal, JournalClosed, NewDelivery


def delivery(delivery_id: str, lane: str = "o/r#1", body: bytes = b'{"action": "created"}') -> NewDelivery:
    return NewDelivery(
        delivery_id=delivery_id, event="issue_comment", action="created", installation_id=42,
        repo="o/r", lane=lane, body=body, received_at=time.time(),
    )


async def test_a_delivery_id_is_recorded_once(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.sqlite3")
    try:
        assert await journal.record(delivery("a")) is True
        assert await journal.record(delivery("a", body=b"{}")) is False
        stored = await journal.get("a")
        assert stored is not None and stored.body == b'{"action": "created"}' and stored.state == "pending"
    finally:
        await journal.close()


async def test_unfinished_deliveries_survive_a_reopen_in_received_order(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = await Journal.open(path)
    for name in ("c", "a", "b", "d"):
        await journal.record(delivery(name))
    await journal.mark_done("a")
    assert await journal.mark_attempt_failed("d", "boom", final=True) == 1
    assert await journal.mark_attempt_failed("b", "flaky", final=False) == 1
    await journal.close()

    reopened = await Journal.open(path)
    try:
        unfinished = await reopened.unfinished()
        assert [(d.delivery_id, d.attempts, d.last_error) for d in unfinished] == [("c", 0, None), ("b", 1, "flaky")]
        assert await reopened.counts() == {"pending": 2, "done": 1, "failed": 1}
    finally:
        await reopened.close()


async def test_once_is_true_for_the_first_delivery_and_its_own_retries_only(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.sqlite3")
    try:
        assert await journal.once("comment:9:2026-06-11T09:12:00Z", "first") is True
        assert await journal.once("comment:9:2026-06-11T09:12:00Z", "first") is True  # its own retry
        assert await journal.once("comment:9:2026-06-11T09:12:00Z", "second") is False
        assert await journal.once("comment:9:2026-06-12T10:00:00Z", "second") is True  # an edit is new
    finally:
        await journal.close()


async def test_a_burst_is_group_committed_and_every_acknowledged_write_is_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = await Journal.open(path, synchronous="FULL")
    results = await asyncio.gather(*(journal.record(delivery(f"d{i}", lane=f"o/r#{i % 7}")) for i in range(300)))
    assert all(results)
    await journal.close()
    # Read back with a separate, plain connection: what was acknowledged is really there.
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 300
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_one_failing_operation_does_not_undo_its_batch_neighbours(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.sqlite3")
    try:
        def broken(connection: sqlite3.Connection) -> None:
            connection.execute("INSERT INTO no_such_table VALUES (1)")

        outcomes = await asyncio.gather(
            journal.record(delivery("before")), journal._submit(broken), journal.record(delivery("after")),
            return_exceptions=True,
        )
        assert outcomes[0] is True and outcomes[2] is True
        assert isinstance(outcomes[1], sqlite3.OperationalError)
        assert await journal.counts() == {"pending": 2}
    finally:
        await journal.close()


async def test_a_closed_journal_refuses_work(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.sqlite3")
    await journal.close()
    with pytest.raises(JournalClosed):
        await journal.record(delivery("late"))


def test_an_unknown_synchronous_mode_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        Journal(tmp_path / "j.sqlite3", synchronous="SOMETIMES")
