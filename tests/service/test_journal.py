"""The SQLite journal: durable, deduplicating, resumable, and group-committing under load."""
from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from bot.service.journal import Journal, JournalClosed, JournalInUse, NewDelivery


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


async def test_marks_that_can_wait_share_the_next_records_commit_and_close_commits_them(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.sqlite3")
    commits: list[int] = []
    real_commit = journal._commit
    journal._commit = lambda connection, append: (commits.append(1), real_commit(connection, append))[1]  # type: ignore[method-assign]
    await asyncio.gather(*(journal.record(delivery(name)) for name in ("a", "b", "c")))
    assert len(commits) == 1
    marked = asyncio.ensure_future(journal.mark_done("a", "b", soon=True))
    await asyncio.sleep(0.01)
    assert not marked.done() and len(commits) == 1, "the marks wait for company"
    await journal.record(delivery("d"))  # a write that cannot wait takes them along
    await marked
    assert len(commits) == 2
    assert [(await journal.get(name)).state for name in "abcd"] == ["done", "done", "pending", "pending"]  # type: ignore[union-attr]
    late = asyncio.ensure_future(journal.mark_done("c", soon=True))
    await asyncio.sleep(0)
    await journal.close()  # nothing is left waiting at close
    await late
    reopened = await Journal.open(tmp_path / "j.sqlite3")
    try:
        assert [d.delivery_id for d in await reopened.unfinished()] == ["d"]
    finally:
        await reopened.close()


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


# ---- bodies in segment files -------------------------------------------------------------------


def body_of(size: int, seed: int) -> bytes:
    return bytes((seed + i) % 251 for i in range(size))


def segment_files(journal_path: Path) -> list[str]:
    return sorted(path.name for path in journal_path.with_name(journal_path.name + "-bodies").iterdir())


async def test_bodies_live_in_segment_files_and_are_read_back_after_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    bodies = {f"d{i}": body_of(size, i) for i, size in enumerate((0, 1, 27_000, 5, 70_000))}
    journal = await Journal.open(path)
    assert all(await asyncio.gather(*(journal.record(delivery(name, body=body)) for name, body in bodies.items())))
    await journal.close()
    with sqlite3.connect(path) as connection:  # the rows stay small: only where each body is
        assert {row[0] for row in connection.execute("SELECT length(body) FROM deliveries")} == {0}

    reopened = await Journal.open(path)
    try:
        assert {d.delivery_id: d.body for d in await reopened.unfinished()} == bodies
        stored = await reopened.get("d2")
        assert stored is not None and stored.body == bodies["d2"]
    finally:
        await reopened.close()


async def test_a_body_can_be_read_in_the_batch_that_records_it(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.sqlite3")
    try:
        recorded, stored = await asyncio.gather(journal.record(delivery("a", body=b'{"x": 1}')), journal.get("a"))
        assert recorded is True and stored is not None and stored.body == b'{"x": 1}'
    finally:
        await journal.close()


async def test_bodies_are_durable_before_the_commit_that_points_at_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    events: list[str] = []
    real_fdatasync = os.fdatasync

    def fdatasync(fd: int) -> None:
        events.append("fdatasync")
        real_fdatasync(fd)

    def trace(statement: str) -> None:
        if statement == "COMMIT":
            events.append(statement)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    journal = await Journal.open(tmp_path / "j.sqlite3", synchronous="FULL")
    assert journal._connection is not None
    journal._connection.set_trace_callback(trace)
    try:
        await asyncio.gather(*(journal.record(delivery(f"d{i}")) for i in range(20)))
        assert events == ["fdatasync", "COMMIT"]  # one group commit: the bodies' fsync first
    finally:
        await journal.close()


_CRASH_AFTER_BODY_WRITE = """
import asyncio, os, sys, time
from pathlib import Path
from bot.service.journal import Journal, NewDelivery

async def main() -> None:
    journal = await Journal.open(Path(sys.argv[1]))
    await journal.record(NewDelivery("kept", "e", None, 1, "o/r", "o/r#1", b"kept body", time.time()))

    def write_then_die(connection, append):
        journal._body_segments().write(append)  # the body is durable...
        os._exit(3)  # ...and the process dies before COMMIT

    journal._commit = write_then_die
    await journal.record(NewDelivery("lost", "e", None, 1, "o/r", "o/r#1", b"GARBAGE" * 100, time.time()))

asyncio.run(main())
"""


async def test_a_crash_between_body_write_and_commit_leaves_garbage_not_a_delivery(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "j.sqlite3"
    crashed = subprocess.run([sys.executable, "-c", _CRASH_AFTER_BODY_WRITE, str(path)], capture_output=True, timeout=60)
    assert crashed.returncode == 3, crashed.stderr.decode()

    journal = await Journal.open(path)
    try:
        # The crashed delivery was never acknowledged, so it is simply not there; GitHub's
        # redelivery is new and gets its own bytes, not the garbage left in the old segment.
        assert [(d.delivery_id, d.body) for d in await journal.unfinished()] == [("kept", b"kept body")]
        assert await journal.record(delivery("lost", body=b"redelivered")) is True
        redelivered = await journal.get("lost")
        assert redelivered is not None and redelivered.body == b"redelivered"
    finally:
        await journal.close()


async def test_a_crash_before_a_new_segment_is_committed_leaves_no_file_behind(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "j.sqlite3"
    script = _CRASH_AFTER_BODY_WRITE.replace('await journal.record(NewDelivery("kept"', 'pass  # (NewDelivery("kept"')
    crashed = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, timeout=60)
    assert crashed.returncode == 3, crashed.stderr.decode()
    assert len(segment_files(path)) == 1  # the crashed batch's segment: no committed row knows it

    journal = await Journal.open(path)
    try:
        assert segment_files(path) == [] and await journal.unfinished() == []
    finally:
        await journal.close()


async def test_rotation_deletes_only_segments_whose_deliveries_are_all_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.service.journal as journal_module

    monkeypatch.setattr(journal_module, "SEGMENT_BYTES", 100)  # every batch past 100 bytes starts a new file
    path = tmp_path / "j.sqlite3"
    journal = await Journal.open(path)
    names = ["done", "pending", "failed", "retried", "last"]
    for i, name in enumerate(names):  # one at a time: one batch, so one segment, each
        await journal.record(delivery(name, body=body_of(200, i)))
    assert len(segment_files(path)) == 5
    await journal.mark_done("done")
    await journal.mark_attempt_failed("failed", "gave up", final=True)  # its body is copied inline
    await journal.mark_attempt_failed("retried", "flaky", final=False)  # still pending
    await journal.record(delivery("next", body=b"{}"))  # into segment 6
    assert journal._rotation is not None  # the roll to segment 6 started a rotation in the background
    await journal._rotation
    journal._schedule_rotation()  # (that one may have run before the marks above; once more)
    await journal._rotation
    # Gone: the done one's and the failed one's. Kept: pending ones, and the current segment.
    assert segment_files(path) == ["0000000002.bodies", "0000000004.bodies", "0000000005.bodies", "0000000006.bodies"]

    failed, done = await journal.get("failed"), await journal.get("done")
    assert failed is not None and failed.body == body_of(200, 2) and failed.state == "failed"
    assert done is not None and done.body == b"" and done.state == "done"  # finished: its body may go
    await journal.close()

    reopened = await Journal.open(path)
    try:
        unfinished = await reopened.unfinished()
        assert [(d.delivery_id, d.body) for d in unfinished] == [
            ("pending", body_of(200, 1)), ("retried", body_of(200, 3)), ("last", body_of(200, 4)), ("next", b"{}")
        ]
        for name in ("pending", "retried", "last", "next"):
            await reopened.mark_done(name)
    finally:
        await reopened.close()
    final = await Journal.open(path)  # opening rotates too: nothing unfinished, nothing kept
    try:
        assert segment_files(path) == []
    finally:
        await final.close()


async def test_a_journal_from_before_segments_keeps_its_inline_bodies(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with sqlite3.connect(path) as connection:  # the schema and page size journals had until now
        connection.execute("PRAGMA page_size=65536")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            "CREATE TABLE deliveries (delivery_id TEXT PRIMARY KEY, event TEXT NOT NULL, action TEXT,"
            " installation_id INTEGER, repo TEXT, lane TEXT NOT NULL, body BLOB NOT NULL, received_at REAL NOT NULL,"
            " state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, finished_at REAL)"
        )
        connection.execute("INSERT INTO deliveries (delivery_id, event, lane, body, received_at) VALUES ('old', 'e', 'l', x'7b7d', 1)")

    journal = await Journal.open(path)
    try:
        assert await journal.record(delivery("new", body=b'{"new": true}')) is True
        assert [(d.delivery_id, d.body) for d in await journal.unfinished()] == [("old", b"{}"), ("new", b'{"new": true}')]
        assert await journal.mark_attempt_failed("old", "gave up", final=True) == 1
        old = await journal.get("old")
        assert old is not None and old.body == b"{}"
    finally:
        await journal.close()


async def test_more_bodies_in_one_batch_than_one_writev_takes(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = await Journal.open(path)
    assert all(await asyncio.gather(*(journal.record(delivery(f"d{i}", body=body_of(i % 50, i))) for i in range(1500))))
    await journal.close()
    reopened = await Journal.open(path)
    try:
        assert {d.delivery_id: d.body for d in await reopened.unfinished()} == {f"d{i}": body_of(i % 50, i) for i in range(1500)}
    finally:
        await reopened.close()


def test_short_writes_are_resumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    from collections.abc import Sequence

    import bot.service.segments as segments

    real_pwritev = os.pwritev

    def short_pwritev(fd: int, buffers: Sequence[bytes], offset: int) -> int:
        return real_pwritev(fd, [bytes(buffers[0])[:3]], offset)  # at most 3 bytes a call

    monkeypatch.setattr(os, "pwritev", short_pwritev)
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    try:
        segments._pwrite_all(fd, [b"hello", b"", b"world!"], 4)
        assert os.pread(fd, 100, 0) == b"\0\0\0\0helloworld!"
    finally:
        os.close(fd)


@pytest.mark.parametrize("direct", [True, False], ids=["O_DIRECT", "buffered"])
def test_segment_writes_read_back_in_either_mode(tmp_path: Path, direct: bool) -> None:
    from bot.service.segments import ALIGNMENT, BodySegments

    segments = BodySegments(tmp_path, 1, sync=True, direct=direct)
    written: list[tuple[int, bytes]] = []
    for batch in ([body_of(5, 1)], [body_of(3_000_000, 2), b"", body_of(4096, 3)], [body_of(1, 4)]):
        for body in batch:
            written.append((segments.next_offset(), body))
            segments.add(body)
        append = segments.take_pending()
        assert append is not None and append.offset % ALIGNMENT == 0  # batches start aligned
        segments.write(append)
    segments.close()
    assert all(segments.read(1, offset, len(body)) == body for offset, body in written)


def test_a_file_system_refusing_o_direct_writes_gets_buffered_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import bot.service.segments as segments_module

    def refuse(fd: int, staging: object, length: int, offset: int) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(segments_module, "_pwrite_chunk", refuse)
    segments = segments_module.BodySegments(tmp_path, 1, sync=True, direct=True)
    segments.add(b"body")
    append = segments.take_pending()
    assert append is not None
    segments.write(append)
    segments.close()
    assert segments.read(1, 0, 4) == b"body"


async def test_a_journal_open_elsewhere_is_refused_until_it_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    first = await Journal.open(path)
    await first.record(delivery("a"))
    with pytest.raises(JournalInUse, match="one journal, one service"):
        await Journal.open(path)  # its clean-up would delete the segment the first one writes to
    await first.close()

    second = await Journal.open(path)
    try:
        assert [d.delivery_id for d in await second.unfinished()] == ["a"]
    finally:
        await second.close()


async def test_a_pending_delivery_whose_body_is_gone_is_left_pending_not_resumed_empty(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = await Journal.open(path)
    await journal.record(delivery("lost"))
    await journal.close()
    for name in segment_files(path):
        (path.with_name(path.name + "-bodies") / name).unlink()  # lost outside the journal (a person, a restore)

    reopened = await Journal.open(path)
    try:
        assert await reopened.unfinished() == []
        assert await reopened.counts() == {"pending": 1}  # still there for a person to look at
    finally:
        await reopened.close()


async def test_a_failed_sync_of_a_new_segments_name_is_retried_by_the_next_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.service import segments

    synced: list[Path] = []
    failures = [OSError(5, "I/O error")]

    def flaky_fsync_directory(directory: Path) -> None:
        synced.append(directory)
        if failures and directory.name.endswith("-bodies"):
            raise failures.pop()

    journal = await Journal.open(tmp_path / "j.sqlite3")
    monkeypatch.setattr(segments, "fsync_directory", flaky_fsync_directory)
    try:
        with pytest.raises(OSError):
            await journal.record(delivery("a"))
        assert await journal.record(delivery("b")) is True
        assert sum(directory.name.endswith("-bodies") for directory in synced) == 2  # tried again, not skipped
    finally:
        await journal.close()
