"""Stopping the worker: `stop()` ends its claim loop whatever the loop was doing at that moment."""
from __future__ import annotations

import asyncio
from pathlib import Path

from bot.service.runtime.routing import compose
from bot.service.runtime.worker import Worker
from bot.store.inbox import SqliteInbox


def never_called(*_: object) -> object:
    raise AssertionError("no delivery is handled in these tests")


async def test_a_stop_that_comes_with_a_wake_still_stops_the_loop(tmp_path: Path) -> None:
    inbox = await SqliteInbox.open(tmp_path / "inbox.sqlite3")
    worker = Worker(inbox, compose(), never_called, poll_seconds=60.0)  # type: ignore[arg-type]
    try:
        worker.start()
        await worker.join()  # the loop now sleeps until woken
        # A delivery recorded (or a lane ending) as the service stops: the wake and the cancel
        # reach the sleeping loop in the same turn of the event loop. `asyncio.wait_for` on
        # Python 3.11 returned the wake then and dropped the cancel, so the loop ran on and the
        # service's stop hung until its bound.
        worker.wake()
        await asyncio.wait_for(worker.stop(), 5)
    finally:
        await inbox.close()
