"""The pipe between the web process and its worker process: messages, framing, and the journal's
stand-in on the worker's side.

One Unix socket pair, length-prefixed MessagePack frames (msgspec), one message type per frame:

  web -> worker   Work      a journalled delivery to handle (with its body)
                  Reply     the answer to a journal call
  worker -> web   Started   an attempt at a delivery begins (so a crash can be counted against it)
                  Call      a journal call that needs its answer: once / mark_attempt_failed
                  Finished  a delivery has left the worker (done, failed, or left pending);
                            `done` carries the worker's mark_done, so that costs no round trip

The web process owns the journal (one writer, group-committed); the worker process asks it
through `JournalLink`, which has the methods the worker and `Context.once` use.
"""
from __future__ import annotations

import asyncio
import itertools
import struct
from collections.abc import Callable
from typing import Any

import msgspec

from bot.service.journal import Delivery, JournalClosed, NewDelivery

_LENGTH = struct.Struct(">I")
MAX_FRAME_BYTES = 64 * 1024 * 1024  # a 25 MB body and its fields fit with room to spare


class Work(msgspec.Struct, tag="work", frozen=True):
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repo: str | None
    lane: str
    body: bytes
    received_at: float
    attempts: int

    @classmethod
    def of(cls, delivery: NewDelivery) -> Work:
        attempts = delivery.attempts if isinstance(delivery, Delivery) else 0  # a new one has none yet
        return cls(delivery.delivery_id, delivery.event, delivery.action, delivery.installation_id,
                   delivery.repo, delivery.lane, delivery.body, delivery.received_at, attempts)

    def delivery(self) -> Delivery:
        return Delivery(
            delivery_id=self.delivery_id, event=self.event, action=self.action,
            installation_id=self.installation_id, repo=self.repo, lane=self.lane, body=self.body,
            received_at=self.received_at, seq=0, state="pending", attempts=self.attempts, last_error=None,
        )


class Once(msgspec.Struct, tag="once", frozen=True):
    call: int
    key: str
    delivery_id: str


class MarkAttemptFailed(msgspec.Struct, tag="mark_attempt_failed", frozen=True):
    call: int
    delivery_id: str
    error: str
    final: bool


class Reply(msgspec.Struct, tag="reply", frozen=True):
    call: int
    value: bool | int | None = None
    error: str | None = None  # the journal's exception, as text


class Started(msgspec.Struct, tag="started", frozen=True):
    delivery_id: str


class Finished(msgspec.Struct, tag="finished", frozen=True):
    delivery_id: str
    done: bool  # the web process marks it done in the journal before it counts it finished


Call = Once | MarkAttemptFailed
Message = Work | Once | MarkAttemptFailed | Reply | Started | Finished

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Message)


class LinkBroken(ConnectionError):
    """The other process is gone, or sent something that is not a frame of ours."""


def send(writer: asyncio.StreamWriter, message: Message) -> None:
    """Queue one frame (the transport buffers it; nothing here waits)."""
    payload = _encoder.encode(message)
    writer.write(_LENGTH.pack(len(payload)) + payload)


async def receive(reader: asyncio.StreamReader) -> Message:
    """The next frame; LinkBroken at end of stream or on a frame that does not decode."""
    try:
        (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
        if length > MAX_FRAME_BYTES:
            raise LinkBroken(f"a frame of {length} bytes is over the limit")
        return _decoder.decode(await reader.readexactly(length))
    except asyncio.IncompleteReadError as error:
        raise LinkBroken("the other process closed the link") from error
    except OSError as error:  # e.g. reset: the other process died with frames of ours unread
        raise LinkBroken(f"the link failed: {error}") from error
    except msgspec.DecodeError as error:
        raise LinkBroken(f"an unreadable frame: {error}") from error


class JournalRemoteError(RuntimeError):
    """The journal, in the web process, refused a call; the message is its error."""


class JournalLink:
    """The worker process's journal: each call is a frame to the web process and waits for its Reply."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._calls = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._broken: str | None = None
        self._done: set[str] = set()  # marked done, to be said with Finished

    async def once(self, key: str, delivery_id: str) -> bool:
        return bool(await self._call(lambda call: Once(call, key, delivery_id)))

    async def mark_done(self, delivery_id: str) -> None:
        """Said with the delivery's Finished (the worker reports that next). Not waiting for the
        journal here is safe: should it be lost with a crash, the delivery runs again, and
        handlers are idempotent (Context.once), as they must be for retries."""
        if self._broken is not None:
            raise JournalClosed(self._broken)
        self._done.add(delivery_id)

    async def mark_attempt_failed(self, delivery_id: str, error: str, *, final: bool) -> int:
        return int(await self._call(lambda call: MarkAttemptFailed(call, delivery_id, error, final)) or 0)

    def started(self, delivery: Delivery) -> None:
        self._tell(Started(delivery.delivery_id))

    def finished(self, delivery: Delivery) -> None:
        done = delivery.delivery_id in self._done
        self._done.discard(delivery.delivery_id)
        self._tell(Finished(delivery.delivery_id, done))

    def _tell(self, message: Started | Finished) -> None:
        """A report that needs no answer; dropped once the link is gone (the journal still has it pending)."""
        if self._broken is None and not self._writer.is_closing():
            send(self._writer, message)

    def answer(self, reply: Reply) -> None:
        future = self._waiting.pop(reply.call, None)
        if future is None or future.done():
            return
        if reply.error is not None:
            future.set_exception(JournalRemoteError(reply.error))
        else:
            future.set_result(reply.value)

    def break_off(self, why: str) -> None:
        """The link is gone: every waiting call fails (its delivery stays pending in the journal)."""
        self._broken = why
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(JournalClosed(why))

    async def _call(self, make: Callable[[int], Call]) -> Any:
        if self._broken is not None:
            raise JournalClosed(self._broken)
        call = next(self._calls)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[call] = future
        try:
            send(self._writer, make(call))
            return await future
        finally:
            self._waiting.pop(call, None)
