"""Work no webhook starts: reconcile after missed deliveries, 👍 as /accept, the weekly digest."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from e2e_world import DOC, Review, notice_in, thread_on

from bot.core.digest_marker import parse_digest_marker
from bot.sandbox import REPO, start_service

ON_BOTH_DATABASES = True  # the `review` here runs on SQLite and on PostgreSQL (conftest.py)

MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # after the default Monday 09:00


def digests_on(review: Review) -> list:
    comments = [c for c in review.hub.state.issue_comments.values() if c.issue_number == review.number]
    return [c for c in comments if parse_digest_marker(c.body)]


async def test_reconcile_heals_replies_and_deletes_whose_webhooks_were_lost(review: Review) -> None:
    hub = review.hub
    q3 = await thread_on(review, "Q3")
    q6 = await thread_on(review, "Q6")
    hub.reply(REPO, review.number, q6, "/strike", user="vish")
    await review.box.settle()
    assert review.records()["Q6"]["status"] == "struck"

    hub.faults.drop_webhooks(times=2, event="pull_request_review_comment")
    hub.reply(REPO, review.number, q3, "/confirm", user="daan")
    strike = next(c for c in hub.state.review_comments.values() if c.in_reply_to_id == q6 and c.user == "vish")
    hub.delete_comment(REPO, strike.id, user="vish")
    await review.box.settle()
    assert review.records()["Q3"]["status"] == "open" and review.records()["Q6"]["status"] == "struck"

    await review.box.scheduler.tick(reconcile_all=True)
    records = review.records()
    assert records["Q3"]["status"] == "confirmed"
    assert records["Q6"]["status"] == "open"  # the strike was deleted while nobody listened
    # Reconciling again finds nothing to heal.
    before = len(hub.requests)
    await review.box.scheduler.tick(reconcile_all=True)
    assert review.records() == records
    assert not [
        r for r in hub.requests[before:]
        if r.method not in ("GET", "POST") or (r.method == "POST" and r.path != "/graphql" and not r.path.startswith("/app/"))
    ]


async def test_a_maintainers_thumbs_up_on_the_notice_accepts_its_proposal_and_folds(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "Yes, that is how we run it.", user="daan")
    await review.box.settle()
    assert review.records()["Q3"]["proposals"][0]["state"] == "proposed"
    notice = notice_in(review, root)

    hub.react(REPO, notice.id, "+1", user="passerby")  # not a maintainer: no effect
    await review.box.scheduler.tick(reconcile_all=True)
    assert review.records()["Q3"]["proposals"][0]["state"] == "proposed"

    hub.clock.advance(1)  # a 👍 counts for proposals made strictly before it (whole-second times)
    hub.react(REPO, notice.id, "+1", user="vish")
    await review.box.scheduler.tick(reconcile_all=True)
    await review.box.settle()
    record = review.records()["Q3"]
    assert record["status"] == "folded"
    assert "*(inferred — §14 Q3)*" not in hub.file(REPO, DOC, ref="threat-model")


async def test_one_digest_a_week_across_restarts_and_two_schedulers_and_last_week_minimized(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()

    review.box.scheduler.clock = lambda: MONDAY_MORNING - timedelta(hours=2)  # before 09:00: not due
    await review.box.scheduler.tick()
    assert digests_on(review) == []

    review.box.scheduler.clock = lambda: MONDAY_MORNING
    await review.box.scheduler.tick()
    await review.box.scheduler.tick()
    (first,) = digests_on(review)
    assert parse_digest_marker(first.body)[0] == "2026-W48"

    # A restart, and a second scheduler racing the first: still one digest this week.
    async with start_service(hub, review.state_dir, review.box.private_key, clock=lambda: MONDAY_MORNING,
                             database_url=review.box.config.database_url) as second:
        second.scheduler.clock = lambda: MONDAY_MORNING
        await asyncio.gather(second.scheduler.tick(), review.box.scheduler.tick())
    assert [c.id for c in digests_on(review)] == [first.id]

    # Next week: a new digest, and last week's is minimized as outdated.
    review.box.scheduler.clock = lambda: MONDAY_MORNING + timedelta(days=7)
    await review.box.scheduler.tick()
    digests = digests_on(review)
    assert [parse_digest_marker(c.body)[0] for c in digests] == ["2026-W48", "2026-W49"]
    assert digests[0].minimized_reason is not None and digests[1].minimized_reason is None
    assert "confirmed" in digests[1].body
