"""Issue #11 end to end: the real service reads replies on the local GitHub without guessing."""
from __future__ import annotations

from e2e_world import Review, answers_by, notice_in, thread_on

from bot.sandbox import REPO


async def test_an_ambiguous_bulk_line_binds_nothing_and_the_notice_asks(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q8")
    hub.reply(REPO, review.number, root, "Q8: correct - the scheduler also runs on the agents", user="vish")
    await review.box.settle()
    record = review.records()["Q8"]
    answer = answers_by(record, "vish")[0]
    assert answer["stance"] == "unclear" and answer["binding"] is False
    assert record["status"] == "open", "an unclear line never confirms"
    notice = notice_in(review, root).body
    assert "`/confirm Q8`" in notice and "`/correct Q8 <text>`" in notice


async def test_a_confirmation_that_asks_a_colleague_awaits_them(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q8")
    body = "This sound right. IMO the only case that matters is an old upgrade. @daan What do you think?"
    hub.reply(REPO, review.number, root, body, user="vish")
    await review.box.settle()
    record = review.records()["Q8"]
    assert "daan" in record["awaiting"]
    assert record["status"] == "open", "free text only proposes"
