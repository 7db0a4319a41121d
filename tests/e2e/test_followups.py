"""Follow-up issues: opened once, labelled, linked both ways, their state kept on the record."""
from __future__ import annotations

from e2e_world import Review, bot_issues, notice_in, thread_on

from bot.sandbox import REPO


def _followups(review: Review, question_id: str) -> list[dict]:
    return [dict(item) for item in review.records()[question_id].get("followups") or ()]


async def test_followup_opens_one_labelled_linked_issue_recorded_on_the_question(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q11")
    hub.reply(REPO, review.number, root, "/followup Q11 List the three recurring non-bugs in SECURITY.md", user="daan")
    await review.box.settle()
    issues = bot_issues(hub)
    assert len(issues) == 1
    issue = issues[0]
    assert issue.title == "List the three recurring non-bugs in SECURITY.md"
    assert sorted(label.name for label in issue.labels) == ["security", "threat-model"]
    assert f"#{review.number}" in issue.body and "**Q11**" in issue.body and f"discussion_r{root}" in issue.body
    [followup] = _followups(review, "Q11")
    assert followup["number"] == issue.number and followup["state"] == "open" and followup["url"].endswith(f"/issues/{issue.number}")
    assert f"/issues/{issue.number}" in notice_in(review, root).body

    # The same /followup again, and a redelivery of the first one: still one issue.
    hub.reply(REPO, review.number, root, "/followup Q11 List the three recurring non-bugs in SECURITY.md", user="vish")
    await review.box.settle()
    first = next(d for d in hub.deliveries if d.event == "pull_request_review_comment" and "/followup" in d.payload["comment"]["body"])
    await hub.webhooks.redeliver(first.id)
    await review.box.settle()
    assert len(bot_issues(hub)) == 1
    assert hub.count_requests("POST", f"/repos/{REPO}/issues") == 1
    assert len(_followups(review, "Q11")) == 1

    hub.close_issue(REPO, issue.number, user="daan")
    await review.box.settle()
    [followup] = _followups(review, "Q11")
    assert followup["state"] == "closed" and followup["number"] == issue.number


async def test_a_heuristic_followup_cue_opens_its_issue_only_on_accept(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q5")
    hub.reply(REPO, review.number, root, "Yes, the HTTP cap is the only one. We should add a regression test for the cap.", user="daan")
    await review.box.settle()
    [proposed] = _followups(review, "Q5")
    assert proposed["state"] == "proposed" and not proposed.get("number")
    assert not bot_issues(hub), "a heuristic cue opens nothing by itself"

    hub.reply(REPO, review.number, root, "/accept", user="vish")
    await review.box.settle()
    issues = bot_issues(hub)
    assert len(issues) == 1
    [opened] = _followups(review, "Q5")
    assert opened["state"] == "open" and opened["number"] == issues[0].number and opened["title"] == issues[0].title


async def test_a_followup_by_a_non_maintainer_opens_nothing(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q11")
    hub.reply(REPO, review.number, root, "/followup Q11 Please open an issue", user="passerby")
    await review.box.settle()
    assert not bot_issues(hub)
    assert hub.count_requests("POST", f"/repos/{REPO}/issues") == 0
