"""Append-only segment files holding the journal's delivery bodies (see journal.py for why).

A segment is one file, `<id>.bodies` (ids increase and are never reused), that bodies are
appended to, one group commit at a time, never overwritten. A row in SQLite says where its body
is: (segment, offset, length). Writes use O_DIRECT where the file system allows it (copied into
one aligned buffer, each batch starting at a multiple of 4 KB): writing into fresh page-cache
pages cost 5–40 µs of kernel CPU per 27 KB body on this VM, O_DIRECT ~2, steadily; the bodies
are read back only after a restart. The journal keeps the ordering that makes this safe:

  * the bytes are written and fdatasync'ed *before* the COMMIT of the rows pointing at them, so
    a committed row never points at bytes a power loss could take;
  * an offset is never handed out twice, even when a write or a COMMIT failed: bytes written
    whose rows did not commit are garbage in the file, never a row pointing at someone else's body.

Threads: `next_offset`/`add`/`take_pending`/`read`/`roll_if_full` run on the event loop; `write`
runs in the journal's single committer thread, strictly after the loop handed it the batch, and
only touches the write descriptor; `delete` runs in a worker thread on files no row needs any more.
"""
from __future__ import annotations

import errno
import itertools
import mmap
import os
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SEGMENT_BYTES = 64 * 1024 * 1024  # roll to a new file past this; ~2,400 deliveries of 27 KB
_SUFFIX = ".bodies"
_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") and os.sysconf("SC_IOV_MAX") > 0 else 1024
# Batches start at multiples of this, and O_DIRECT writes are whole multiples of it from memory
# aligned to it (mmap'ed): safe for 512-byte and 4 KB logical blocks alike.
ALIGNMENT = 4096
_STAGING_BYTES = 1024 * 1024  # O_DIRECT writes go out in chunks of at most this
_O_DIRECT = getattr(os, "O_DIRECT", 0)  # not on macOS: plain buffered writes there



@dataclass(frozen=True)
class Append:
    """One batch's bodies, to be written contiguously at `offset` of `segment`."""

    segment: int
    offset: int
    buffers: list[bytes]


class BodySegments:
    def __init__(
        self, directory: Path, first_segment: int, *, sync: bool, segment_bytes: int = SEGMENT_BYTES, direct: bool = True
    ) -> None:
        self.directory = directory
        self.current = first_segment  # the segment new bodies go to; never deleted
        self._end = 0  # next free offset in `current`, past everything handed to `write`
        self._sync = sync
        self._segment_bytes = segment_bytes
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._fd: int | None = None  # committer thread only, like the two below
        self._fd_segment = -1
        # O_DIRECT: the bodies go from one aligned buffer to the disk instead of into fresh
        # page-cache pages (which cost far more kernel CPU per byte on this VM); they are read
        # back only after a restart. Falls back to buffered writes where the file system refuses.
        self._direct = direct and bool(_O_DIRECT)
        self._staging: mmap.mmap | None = None

    # ---- on the loop -------------------------------------------------------------------------

    def next_offset(self) -> int:
        """Where the next `add`ed body will start in `current`."""
        return self._end + self._pending_bytes

    def add(self, body: bytes) -> None:
        if body:  # an empty body needs no bytes (and would stall the write loop)
            self._pending.append(body)
            self._pending_bytes += len(body)

    def discard_pending(self) -> None:
        """Forget bodies whose rows were rolled back before anything was written."""
        self._pending, self._pending_bytes = [], 0

    def take_pending(self) -> Append | None:
        """Hand the batch's bodies over for writing; their offsets are used up even if it fails."""
        if not self._pending:
            return None
        append = Append(self.current, self._end, self._pending)
        self._end = _align_up(self._end + self._pending_bytes)  # the next batch starts aligned
        self.discard_pending()
        return append

    def roll_if_full(self) -> bool:
        """Start a new segment once the current one is big enough (at a batch boundary only)."""
        if self._end < self._segment_bytes:
            return False
        self.current, self._end = self.current + 1, 0
        return True

    def read(self, segment: int, offset: int, length: int) -> bytes | None:
        """A body's bytes; None when its segment was deleted (all its deliveries finished)."""
        if segment == self.current and offset >= self._end:
            return self._read_pending(offset, length)  # inserted in the open transaction
        try:
            fd = os.open(self.path(segment), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            return os.pread(fd, length, offset)
        finally:
            os.close(fd)

    def _read_pending(self, offset: int, length: int) -> bytes | None:
        position = self._end
        for body in self._pending:
            if position == offset and len(body) == length:
                return body
            position += len(body)
        return b"" if length == 0 else None

    # ---- in the committer thread ---------------------------------------------------------------

    def write(self, append: Append) -> None:
        """Write a batch's bodies and make them durable (before the COMMIT that points at them)."""
        fd = self._fd_for(append.segment)
        if self._direct:
            try:
                self._pwrite_staged(fd, append.buffers, append.offset)
            except OSError as error:  # a file system that took O_DIRECT at open but not these writes
                if error.errno != errno.EINVAL:
                    raise
                fd = self._stop_direct(append.segment)
        if not self._direct:
            _pwrite_all(fd, append.buffers, append.offset)
        if self._sync:
            _datasync(fd)  # also covers the file's new size, so the bytes can be found again

    def _fd_for(self, segment: int) -> int:
        if self._fd_segment == segment and self._fd is not None:
            return self._fd
        self._close_fd()
        fd = self._open_for_writing(self.path(segment))
        if self._sync:
            try:
                fsync_directory(self.directory)  # the new file's name must survive a power loss too
            except OSError:
                os.close(fd)  # not kept: the next batch opens it again and retries the sync
                raise
        self._fd, self._fd_segment = fd, segment
        return fd

    def _open_for_writing(self, path: Path) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC
        if self._direct:
            try:
                return os.open(path, flags | _O_DIRECT, 0o600)
            except OSError as error:  # e.g. an older tmpfs
                if error.errno != errno.EINVAL:
                    raise
                self._direct = False
        return os.open(path, flags, 0o600)

    def _stop_direct(self, segment: int) -> int:
        self._direct = False
        self._close_fd()  # (the staging buffer may still be referenced by the failed write's traceback)
        return self._fd_for(segment)

    def _pwrite_staged(self, fd: int, buffers: list[bytes], offset: int) -> None:
        """Copy the bodies into the aligned staging buffer and write it out, chunk by chunk;
        the last chunk is padded to ALIGNMENT (the padding is garbage no row points at)."""
        if self._staging is None:
            self._staging = mmap.mmap(-1, _STAGING_BYTES)  # page-aligned, as O_DIRECT needs
        staging, filled = self._staging, 0
        for body in buffers:
            view = memoryview(body)
            while view:
                taken = min(len(view), _STAGING_BYTES - filled)
                staging[filled:filled + taken] = view[:taken]
                filled, view = filled + taken, view[taken:]
                if filled == _STAGING_BYTES:
                    offset = _pwrite_chunk(fd, staging, filled, offset)
                    filled = 0
        if filled:
            padded = _align_up(filled)
            staging[filled:padded] = bytes(padded - filled)  # not leftovers of earlier bodies
            _pwrite_chunk(fd, staging, padded, offset)

    def close(self) -> None:
        self._close_fd()
        if self._staging is not None:
            try:
                self._staging.close()
            except BufferError:  # a failed write's traceback still holds a view; freed with it
                pass
            self._staging = None

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd, self._fd_segment = None, -1

    # ---- files -------------------------------------------------------------------------------

    def path(self, segment: int) -> Path:
        return self.directory / f"{segment:010d}{_SUFFIX}"

    def delete(self, segments: Iterable[int]) -> None:
        """Remove segment files (a file that is already gone is fine). Worker thread."""
        for segment in segments:
            self.path(segment).unlink(missing_ok=True)


def segments_on_disk(directory: Path) -> list[int]:
    """The ids of the segment files present in `directory`."""
    return sorted(int(path.stem) for path in directory.glob(f"*{_SUFFIX}") if path.stem.isdigit())


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _datasync(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)  # macOS has no fdatasync


def _align_up(size: int) -> int:
    return -(-size // ALIGNMENT) * ALIGNMENT


def _pwrite_chunk(fd: int, staging: mmap.mmap, length: int, offset: int) -> int:
    """Write staging[:length] at `offset`; returns the offset after it."""
    with memoryview(staging) as view:  # released before the next copy into `staging`
        _pwrite_all(fd, [view[:length]], offset)
    return offset + length


def _pwrite_all(fd: int, buffers: Sequence[bytes | memoryview], offset: int) -> None:
    """pwritev every buffer at `offset`, in chunks of at most IOV_MAX, resuming after short writes."""
    remaining: deque[bytes | memoryview] = deque(buffer for buffer in buffers if buffer)
    while remaining:
        written = os.pwritev(fd, list(itertools.islice(remaining, _IOV_MAX)), offset)
        if written <= 0:
            raise OSError(f"pwritev wrote {written} bytes at offset {offset}")
        offset += written
        while written:
            head = remaining[0]
            if len(head) > written:
                remaining[0] = memoryview(head)[written:]
                break
            written -= len(head)
            remaining.popleft()
