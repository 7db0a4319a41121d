"""The service's lists across several pages: GitHub pages every list, and a PR's comments
outgrow one page. A lowered page size on the local GitHub makes a few comments take many
pages, so the bot must follow each `Link` to the end."""
from __future__ import annotations

from e2e_world import Review, thread_on

from bot.sandbox import REPO

PAGE = 2  # items a page: the threads below fill six pages of review comments


async def test_reconcile_reads_every_page_and_heals_a_reply_on_the_last(review: Review) -> None:
    hub = review.hub
    hub.max_per_page = PAGE
    roots = [await thread_on(review, question) for question in ("Q2", "Q3", "Q4", "Q5", "Q6")]
    hub.faults.drop_webhooks(times=1, event="pull_request_review_comment")
    hub.reply(REPO, review.number, roots[-1], "/confirm", user="daan")  # the newest comment: on the last page
    await review.box.settle()
    assert review.records()["Q6"]["status"] == "open"

    before = len(hub.requests)
    await review.box.scheduler.tick(reconcile_all=True)

    assert review.records()["Q6"]["status"] == "confirmed"
    comments = f"/repos/{REPO}/pulls/{review.number}/comments"
    listed = sum(1 for comment in hub.state.review_comments.values() if comment.pr_number == review.number)
    pages = {r.query for r in hub.requests[before:] if r.method == "GET" and r.path == comments}
    assert len(pages) == -(-listed // PAGE) > 1, pages
