"""The pipe between the web process and its worker process: frames, and the journal's stand-in."""
from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator

import pytest

from bot.service.journal import Delivery, JournalClosed, NewDelivery
from bot.service.worker_link import (
    MAX_FRAME_BYTES,
    Finished,
    JournalLink,
    JournalRemoteError,
    LinkBroken,
    MarkAttemptFailed,
    Once,
    Reply,
    Started,
    Work,
    receive,
    send,
)

Ends = tuple[asyncio.StreamReader, asyncio.StreamWriter, asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture
async def ends() -> AsyncIterator[Ends]:
    left, right = socket.socketpair()
    left_reader, left_writer = await asyncio.open_unix_connection(sock=left)
    right_reader, right_writer = await asyncio.open_unix_connection(sock=right)
    yield left_reader, left_writer, right_reader, right_writer
    left_writer.close()
    right_writer.close()


def new_delivery(body: bytes = b'{"action": "created"}') -> NewDelivery:
    return NewDelivery("d-1", "issue_comment", "created", 42, "o/r", "o/r#7", body, 1700000000.5)


async def test_a_delivery_crosses_whole_and_a_new_one_has_no_attempts_yet(ends: Ends) -> None:
    _, web, worker, _ = ends
    body = bytes(range(256)) * 200  # any bytes, not only UTF-8
    send(web, Work.of(new_delivery(body)))
    resumed = Delivery(**vars(new_delivery()), seq=9, state="pending", attempts=2, last_error="boom")
    send(web, Work.of(resumed))
    first, second = await receive(worker), await receive(worker)
    assert isinstance(first, Work) and isinstance(second, Work)
    delivery = first.delivery()
    assert (delivery.delivery_id, delivery.lane, delivery.body, delivery.attempts) == ("d-1", "o/r#7", body, 0)
    assert delivery.received_at == 1700000000.5 and delivery.installation_id == 42
    assert second.delivery().attempts == 2, "a resumed delivery keeps counting its attempts"


async def test_the_end_of_the_stream_and_a_frame_that_is_not_ours_break_the_link(ends: Ends) -> None:
    _, web, worker, _ = ends
    web.write(struct.pack(">I", 5) + b"\xc1\xc1\xc1\xc1\xc1")  # 0xc1: never valid MessagePack
    with pytest.raises(LinkBroken, match="unreadable"):
        await receive(worker)
    web.write(struct.pack(">I", MAX_FRAME_BYTES + 1))
    with pytest.raises(LinkBroken, match="over the limit"):
        await receive(worker)
    web.close()
    with pytest.raises(LinkBroken, match="closed"):
        await receive(worker)


async def test_journal_calls_wait_for_their_own_reply(ends: Ends) -> None:
    web_reader, _, _, worker_writer = ends
    link = JournalLink(worker_writer)
    once = asyncio.ensure_future(link.once("notice:1", "d-1"))
    failed = asyncio.ensure_future(link.mark_attempt_failed("d-1", "boom", final=False))
    calls = [await receive(web_reader), await receive(web_reader)]
    assert isinstance(calls[0], Once) and calls[0].key == "notice:1"
    assert isinstance(calls[1], MarkAttemptFailed) and calls[1].error == "boom" and not calls[1].final
    link.answer(Reply(calls[1].call, value=3))  # answered out of order
    link.answer(Reply(calls[0].call, value=True))
    assert await once is True and await failed == 3
    refused = asyncio.ensure_future(link.once("notice:2", "d-1"))
    call = await receive(web_reader)
    link.answer(Reply(call.call, error="OperationalError: disk I/O error"))  # type: ignore[union-attr]
    with pytest.raises(JournalRemoteError, match="disk I/O"):
        await refused


async def test_done_rides_with_finished_and_a_broken_link_fails_waiting_calls(ends: Ends) -> None:
    web_reader, _, _, worker_writer = ends
    link = JournalLink(worker_writer)
    delivery = Delivery(**vars(new_delivery()), seq=0, state="pending", attempts=0, last_error=None)
    await link.mark_done("d-1")
    link.finished(delivery)
    link.finished(delivery)  # a second time (say, after a retry left it pending): not done again
    assert await receive(web_reader) == Finished("d-1", True)
    assert await receive(web_reader) == Finished("d-1", False)
    waiting = asyncio.ensure_future(link.once("notice:1", "d-1"))
    await asyncio.sleep(0)
    link.break_off("the web process went away")
    with pytest.raises(JournalClosed):
        await waiting
    with pytest.raises(JournalClosed):
        await link.mark_done("d-1")


async def test_a_peer_that_died_with_frames_unread_breaks_the_link() -> None:
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_unix_connection(sock=ours)
    send(writer, Work.of(new_delivery()))
    await writer.drain()
    await asyncio.sleep(0.05)
    theirs.close()  # killed before it read what was sent: the kernel resets the link
    try:
        with pytest.raises(LinkBroken):
            await receive(reader)
    finally:
        writer.close()


async def test_an_attempt_is_announced_before_it_starts(ends: Ends) -> None:
    web_reader, _, _, worker_writer = ends
    link = JournalLink(worker_writer)
    link.started(Delivery(**vars(new_delivery()), seq=0, state="pending", attempts=0, last_error=None))
    assert await receive(web_reader) == Started("d-1")
