"""The inbox on its own, on SQLite and on PostgreSQL: dedupe, lane order across instances,
takeover, retention."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.store.database import Database, open_database
from bot.store.inbox import HANDLED_RETENTION_SECONDS, RETENTION_SECONDS, Inbox, NewDelivery

ON_BOTH_DATABASES = True


def delivery(delivery_id: str, lane: str = "o/r#1") -> NewDelivery:
    return NewDelivery(delivery_id=delivery_id, event="issue_comment", action="created", installation_id=7,
                       repo="o/r", lane=lane, body=b'{"action": "created"}', received_at=time.time())


class Inboxes:
    """Opens inboxes on one database (one SQLite file, or one PostgreSQL database), as instances would."""

    def __init__(self, stack: AsyncExitStack, state_dir: Path, database_url: str | None) -> None:
        self._stack, self._state_dir, self._url = stack, state_dir, database_url
        self._open: dict[int, Database] = {}

    async def open(self, takeover_after: float = 30.0, *, closed_by_test: bool = False) -> Inbox:
        database = await open_database(self._state_dir, self._url, takeover_after=takeover_after)
        self._open[id(database.inbox)] = database
        if not closed_by_test:
            self._stack.push_async_callback(database.close)
        return database.inbox

    async def close(self, inbox: Inbox) -> None:
        """A clean stop of that instance."""
        await self._open.pop(id(inbox)).close()


@pytest.fixture
async def inboxes(tmp_path: Path, database: str | None) -> AsyncIterator[Inboxes]:
    async with AsyncExitStack() as stack:
        yield Inboxes(stack, tmp_path, database)


async def test_a_delivery_id_is_recorded_once(tmp_path: Path, inboxes: Inboxes) -> None:
    inbox = await inboxes.open()
    assert await inbox.record(delivery("a")) is True
    assert await inbox.record(delivery("a")) is False
    assert await inbox.counts() == {"pending": 1}


async def test_only_a_lanes_oldest_delivery_is_claimable_even_by_another_instance(tmp_path: Path, inboxes: Inboxes) -> None:
    first, second = await inboxes.open(), await inboxes.open()
    for delivery_id, lane in (("pr1-a", "o/r#1"), ("pr1-b", "o/r#1"), ("pr2-a", "o/r#2")):
        await first.record(delivery(delivery_id, lane))
    claimed = await first.claim(skip_lanes=set(), limit=1)
    assert [d.delivery_id for d in claimed] == ["pr1-a"] and claimed[0].attempts == 1
    # The other instance may take PR 2, never PR 1's second delivery while its first is held.
    assert [d.delivery_id for d in await second.claim(skip_lanes=set(), limit=10)] == ["pr2-a"]
    assert await second.claim(skip_lanes=set(), limit=10) == []
    await first.mark_done("pr1-a")
    assert [d.delivery_id for d in await second.claim(skip_lanes=set(), limit=10)] == ["pr1-b"]


async def test_a_retry_keeps_its_lane_waiting_until_it_is_due(tmp_path: Path, inboxes: Inboxes) -> None:
    inbox = await inboxes.open()
    await inbox.record(delivery("flaky"))
    await inbox.record(delivery("later"))
    (flaky,) = await inbox.claim(skip_lanes=set(), limit=5)
    await inbox.retry_later(flaky.delivery_id, "RuntimeError: 502", 0.3)
    assert await inbox.claim(skip_lanes=set(), limit=5) == []  # "later" may not overtake it
    due = await inbox.next_due()
    assert due is not None and due > time.time()
    await asyncio.sleep(0.35)
    (again,) = await inbox.claim(skip_lanes=set(), limit=5)
    assert (again.delivery_id, again.attempts, again.last_error) == ("flaky", 2, "RuntimeError: 502")


async def test_a_claim_of_an_instance_that_died_is_taken_over_after_the_timeout(tmp_path: Path, inboxes: Inboxes) -> None:
    dead = await inboxes.open(0.3)  # claims, then never beats again
    alive = await inboxes.open(0.3)
    await dead.record(delivery("orphan"))
    assert len(await dead.claim(skip_lanes=set(), limit=1)) == 1
    assert await alive.claim(skip_lanes=set(), limit=1) == []  # still within the timeout
    await asyncio.sleep(0.4)
    await alive.heartbeat()
    (taken,) = await alive.claim(skip_lanes=set(), limit=1)
    assert (taken.delivery_id, taken.attempts) == ("orphan", 2)  # the attempt that died counts


async def test_a_clean_stop_hands_its_claims_back_without_counting_them(tmp_path: Path, inboxes: Inboxes) -> None:
    stopping = await inboxes.open(closed_by_test=True)
    await stopping.record(delivery("in-flight"))
    await stopping.claim(skip_lanes=set(), limit=1)
    await inboxes.close(stopping)
    restarted = await inboxes.open()
    (resumed,) = await restarted.claim(skip_lanes=set(), limit=1)
    assert (resumed.delivery_id, resumed.attempts) == ("in-flight", 1)


async def test_finished_rows_and_keys_are_pruned_after_their_retention_and_not_before(
    tmp_path: Path, inboxes: Inboxes,
) -> None:
    inbox = await inboxes.open()
    for delivery_id in ("done", "failed", "pending"):
        await inbox.record(delivery(delivery_id, lane=delivery_id))
    await inbox.claim(skip_lanes=set(), limit=3)
    await inbox.mark_done("done")
    await inbox.mark_failed("failed", "PermanentFailure: gone")
    assert await inbox.once("remark:1", "done")
    now = time.time()
    assert await inbox.prune(now + RETENTION_SECONDS - 60) == 0
    assert await inbox.record(delivery("done")) is False  # dedupe holds for the whole retention
    assert await inbox.prune(now + RETENTION_SECONDS + 60) == 2
    assert await inbox.counts() == {"pending": 1}  # what is not finished is never pruned
    assert not await inbox.once("remark:1", "another")  # keys are kept longer
    assert await inbox.prune(now + HANDLED_RETENTION_SECONDS + 60) == 1
    assert await inbox.once("remark:1", "another")
