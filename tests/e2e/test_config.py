"""The repository's own settings: an invalid file, dry runs, and what one reply costs in API calls."""
from __future__ import annotations

import logging

import pytest
from e2e_world import AUTHOR, BRANCH, DOC, FIXTURE, Review, answers_by, api_calls_since, thread_on, writes_since

from bot.sandbox import REPO

CONFIG = ".github/threat-model-bot.yml"


async def _configure(review: Review, text: str) -> None:
    review.hub.push(REPO, "main", {CONFIG: text}, user="daan", message="Configure the threat-model bot")
    await review.box.settle()


async def test_an_invalid_config_gets_exactly_one_clear_comment_and_no_record_changes(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    await _configure(review, "dry_run: maybe\nmaintainers:\n  associations: [OVERLORD]\n")
    records = review.records()
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    hub.comment(REPO, review.number, "Q8: confirm\n/accept", user="vish")
    hub.push(REPO, BRANCH, {DOC: FIXTURE.read_text(encoding="utf-8") + "\nA trailing note.\n"}, user=AUTHOR, message="note")
    await review.box.settle()
    assert review.records() == records
    errors = [c for c in hub.state.issue_comments.values() if c.user.endswith("[bot]")]
    assert len(errors) == 1, [c.body[:80] for c in errors]
    assert "dry_run" in errors[0].body and "maintainers.associations" in errors[0].body
    assert await review.box.failed_deliveries() == 0

    await _configure(review, "dry_run: false\n")
    hub.reply(REPO, review.number, root, "/confirm", user="vish")
    await review.box.settle()
    assert review.records()["Q3"]["status"] == "confirmed", "a fixed file lets the bot act again"


async def test_dry_run_computes_and_records_but_writes_nothing_to_github(review: Review, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    hub = review.hub
    await _configure(review, "dry_run: true\n")
    start = len(hub.requests)
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    hub.reply(REPO, review.number, root, "/followup Q3 Document who holds the signing key", user="daan")
    hub.comment(REPO, review.number, "Q6: confirm\n/accept", user="vish")
    await review.box.settle()
    assert writes_since(hub, start) == [], [(r.method, r.path) for r in writes_since(hub, start)]
    assert hub.file(REPO, DOC, ref=BRANCH) == FIXTURE.read_text(encoding="utf-8")
    assert not [c for c in hub.state.review_comments.values() if c.user.endswith("[bot]")]
    assert answers_by(review.records()["Q3"], "daan"), "the reply was still read and recorded"
    logged = caplog.text
    assert "dry run: would update the notice" in logged
    assert "dry run: would open follow-up issue 'Document who holds the signing key' for Q3" in logged
    assert "dry run: would commit" in logged and "+++ b/draft-THREAT-MODEL.md" in logged


async def test_a_bulk_answer_costs_at_most_three_api_calls(review: Review) -> None:
    hub = review.hub
    hub.comment(REPO, review.number, "Q3: confirm", user="vish")  # the PR-level notice exists from here on
    await review.box.settle()
    start = len(hub.requests)
    hub.comment(REPO, review.number, "Q8: confirm\nQ11: strike\nQ12: confirm", user="daan")
    await review.box.settle()
    calls = api_calls_since(hub, start)
    assert len(calls) <= 3, [(r.method, r.path) for r in calls]
    records = review.records()
    assert (records["Q8"]["status"], records["Q11"]["status"], records["Q12"]["status"]) == ("confirmed", "struck", "confirmed")


async def test_a_heuristic_yes_costs_at_most_three_api_calls(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q10")
    start = len(hub.requests)
    hub.reply(REPO, review.number, root, "Yes, that's right — we don't claim it.", user="daan")
    await review.box.settle()
    calls = api_calls_since(hub, start)
    assert len(calls) <= 3, [(r.method, r.path) for r in calls]
    record = review.records()["Q10"]
    assert answers_by(record, "daan")[0]["binding"] is False
    assert [p["state"] for p in record["proposals"]] == ["proposed"]
