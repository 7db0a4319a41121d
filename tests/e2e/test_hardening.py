"""What people (or stale state) must not be able to make the bot do."""
from __future__ import annotations

from datetime import UTC, datetime

from e2e_world import AUTHOR, DOC, FIXTURE, Review, api_calls_since, bot_issues, notice_in, thread_on

from bot.core.digest_marker import parse_digest_marker
from bot.core.limits import LOGINS_PER_COMMENT
from bot.sandbox import REPO
from bot.store.pull_state import load_pull_state


async def test_an_old_thumbs_up_does_not_accept_a_proposal_made_after_it(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "Yes, that is how we run it.", user="daan")
    await review.box.settle()
    notice = notice_in(review, root)
    hub.clock.advance(1)  # GitHub's times are whole seconds: keep the three moments apart
    hub.react(REPO, notice.id, "+1", user="vish")
    hub.clock.advance(1)
    hub.reply(REPO, review.number, root, "Hmm, actually that sounds right to me too.", user="daan")
    await review.box.settle()
    proposals = review.records()["Q3"]["proposals"]
    assert len(proposals) == 2

    await review.box.scheduler.tick(reconcile_all=True)
    states = {item["id"]: item["state"] for item in review.records()["Q3"]["proposals"]}
    first, later = (item["id"] for item in proposals)
    assert states[first] in ("accepted", "applied") and states[later] == "proposed"


async def test_an_issue_a_person_opens_with_a_copied_marker_is_not_taken_for_a_followup(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q5")
    hub.reply(REPO, review.number, root, "/followup Add a size-limit test", user="daan")
    await review.box.settle()
    (real,) = bot_issues(hub)
    forged = hub.open_issue(REPO, "Add a size-limit test", real.body, user="passerby")
    hub.close_issue(REPO, forged, user="passerby")
    await review.box.settle()
    (followup,) = review.records()["Q5"]["followups"]
    assert followup["number"] == real.number and followup["state"] == "open"


async def test_a_deleted_notice_is_posted_afresh_on_the_next_reply(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()
    hub.delete_comment(REPO, notice_in(review, root).id, user="daan")
    await review.box.settle()
    hub.reply(REPO, review.number, root, "Thanks.", user="vish")
    await review.box.settle()
    assert "status: **confirmed**" in notice_in(review, root).body
    assert await review.box.failed_deliveries() == 0


async def test_a_closed_pr_gets_no_more_digests(review: Review) -> None:
    hub = review.hub
    hub.close_issue(REPO, review.number, user="asf-sec")
    await review.box.settle()
    assert review.state().closed
    review.box.scheduler.clock = lambda: datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    await review.box.scheduler.tick(reconcile_all=True)
    comments = [c for c in hub.state.issue_comments.values() if c.issue_number == review.number]
    assert not [c for c in comments if parse_digest_marker(c.body)]


async def test_comments_on_a_pr_without_a_threat_model_cost_nothing_after_the_first_look(review: Review) -> None:
    hub = review.hub
    hub.push(REPO, "docs-only", {"README.md": "# cloudstack, now with more words\n"}, user="asf-sec")
    other = hub.open_pr(REPO, "docs-only", user="asf-sec", title="Docs")
    await review.box.settle()
    start = len(hub.requests)
    for n in range(3):
        hub.comment(REPO, other, f"/confirm Q{n + 3}", user="daan")
    await review.box.settle()
    calls = [r for r in hub.requests[start:] if not r.path.startswith("/app/")]
    assert len(calls) <= 3, [(r.method, r.path) for r in calls]  # the settings read per comment, nothing else
    assert not [r for r in calls if "/pulls/" in r.path]


# A comment anyone may post that the reader has failed on (Python's limit on int conversion);
# the tests assert what must hold whether or not the reader still fails on it.
POISON = "Ref Q" + "1" * 5000


async def test_a_comment_the_reader_cannot_read_never_blocks_the_pr(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.comment(REPO, review.number, POISON, user="passerby")
    hub.reply(REPO, review.number, root, POISON, user="passerby")
    hub.reply(REPO, review.number, root, "Yes, that is how we run it.", user="daan")
    await review.box.settle()
    hub.clock.advance(1)  # GitHub's times are whole seconds: the 👍 must come after the proposal
    hub.react(REPO, notice_in(review, root).id, "+1", user="vish")  # no webhook: only reconcile sees it
    other = await thread_on(review, "Q5")
    hub.reply(REPO, review.number, other, "/confirm", user="vish")
    await review.box.settle()
    assert await review.box.failed_deliveries() == 0
    assert review.records()["Q5"]["status"] == "confirmed", "the maintainer's /confirm after it takes effect"

    await review.box.scheduler.tick(reconcile_all=True)
    await review.box.scheduler.tick(reconcile_all=True)
    record = review.records()["Q3"]
    assert [p["state"] for p in record["proposals"]] in (["accepted"], ["applied"]), "reconcile still heals the PR"
    assert review.records()["Q5"]["status"] in ("confirmed", "folded"), "the fold the 👍 started takes confirmed answers along"
    assert not review.state().needs_reconcile


async def test_a_passers_by_ask_changes_nobody_awaited_and_a_maintainer_still_decides(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()
    hub.reply(REPO, review.number, root, "/ask @vish", user="passerby")
    await review.box.settle()
    record = review.records()["Q3"]
    assert (record["status"], list(record["awaiting"])) == ("confirmed", [])
    assert any(answer["author"] == "passerby" for answer in record["answers"]), "recorded as input"
    assert "@vish" not in notice_in(review, root).body

    hub.reply(REPO, review.number, root, "/ask @vish", user="daan")  # a maintainer's ask does count
    await review.box.settle()
    assert list(review.records()["Q3"]["awaiting"]) == ["vish"]
    hub.reply(REPO, review.number, root, "/strike", user="daan")
    await review.box.settle()
    record = review.records()["Q3"]
    assert (record["status"], list(record["awaiting"])) == ("struck", [])


async def test_a_yaml_bomb_in_the_settings_gets_one_short_comment_and_costs_nothing(review: Review) -> None:
    hub = review.hub
    bomb = "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9) if previous else ', '.join(['lol'] * 9)}]\n"
        for previous, name in zip(["", "a", "b", "c", "d", "e", "f", "g"], ["a", "b", "c", "d", "e", "f", "g", "h"], strict=True)
    )
    hub.push(REPO, "main", {".github/threat-model-bot.yml": bomb}, user="daan", message="Configure")
    await review.box.settle()
    records = review.records()
    hub.comment(REPO, review.number, "Q3: confirm", user="daan")
    await review.box.settle()
    assert review.records() == records
    (error,) = [c for c in hub.state.issue_comments.values() if c.user.endswith("[bot]")]
    assert "anchors and aliases" in error.body and len(error.body) < 600
    assert await review.box.failed_deliveries() == 0


async def test_a_document_glob_matching_several_files_is_named_not_guessed(review: Review) -> None:
    hub = review.hub
    hub.push(REPO, "main", {".github/threat-model-bot.yml": "document: '**/*'\n"}, user="daan", message="Configure")
    await review.box.settle()
    hub.push(REPO, "second-model", {"README.md": "# notes\n", "OTHER-THREAT-MODEL.md": "# model\n"}, user=AUTHOR, message="two")
    other = hub.open_pr(REPO, "second-model", user=AUTHOR, title="Two files")
    await review.box.settle()
    remarks = [c for c in hub.state.issue_comments.values() if c.issue_number == other and c.user.endswith("[bot]")]
    assert len(remarks) == 1 and "`README.md`" in remarks[0].body and "`OTHER-THREAT-MODEL.md`" in remarks[0].body
    assert load_pull_state(review.state_dir, REPO, other).document_path is None, "not tracked: the bot never guesses"
    assert await review.box.failed_deliveries() == 0


async def test_a_comment_asking_500_people_costs_a_bounded_number_of_api_calls(review: Review) -> None:
    hub = review.hub
    hub.comment(REPO, review.number, "Q3: confirm", user="vish")  # the PR-level notice exists from here on
    await review.box.settle()
    asks = "\n".join(f"/ask @reviewer-{n} Q8" for n in range(500))
    for author in ("passerby", "daan"):
        start = len(hub.requests)
        hub.comment(REPO, review.number, asks, user=author)
        await review.box.settle()
        calls = api_calls_since(hub, start)
        # settings + notice, and for the maintainer at most LOGINS_PER_COMMENT people looked up
        # (membership, then permission when membership says no: two calls each at worst)
        assert len(calls) <= 3 + 2 * LOGINS_PER_COMMENT, (author, len(calls))
    awaiting = list(review.records()["Q8"]["awaiting"])
    assert len(awaiting) == LOGINS_PER_COMMENT and awaiting[0] == "reviewer-0"
    assert await review.box.failed_deliveries() == 0

    hub.push(REPO, "second-model", {DOC: FIXTURE.read_text(encoding="utf-8")}, user=AUTHOR, message="again")
    second = hub.open_pr(REPO, "second-model", user=AUTHOR, title="The model again")
    await review.box.settle()
    start = len(hub.requests)
    hub.comment(REPO, second, asks, user="vish")  # the same people, on another PR
    await review.box.settle()
    lookups = [r for r in api_calls_since(hub, start) if "/members/" in r.path or "/collaborators/" in r.path]
    assert lookups == [], "what GitHub said about them is remembered"


async def test_a_followup_github_refuses_does_not_undo_the_confirmation_beside_it(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q5")
    hub.faults.error(f"/repos/{REPO}/issues", status=422, method="POST", times=None, message="Validation Failed")
    hub.reply(REPO, review.number, root, "/confirm\n/followup Q5 Add a regression test for the cap", user="daan")
    await review.box.settle()
    record = review.records()["Q5"]
    assert record["status"] == "confirmed", "the confirmation stands"
    assert [item["state"] for item in record["followups"]] == ["proposed"] and not bot_issues(hub)
    remarks = [c for c in hub.state.issue_comments.values() if c.user.endswith("[bot]") and "was not opened" in c.body]
    assert len(remarks) == 1, "reported once"
    assert await review.box.failed_deliveries() == 0


async def test_an_overlong_or_marker_breaking_followup_title_cannot_harm_the_issue(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q11")
    hub.reply(REPO, review.number, root, "/followup Q11 " + "very long title " * 20, user="daan")
    hub.reply(REPO, review.number, root, "/confirm", user="vish")
    await review.box.settle()
    assert not bot_issues(hub), "over GitHub's 256-character title limit: not opened"
    assert review.records()["Q11"]["status"] == "confirmed"
    (remark,) = [c for c in hub.state.issue_comments.values() if c.user.endswith("[bot]") and "was not opened" in c.body]
    assert "256" in remark.body and len(remark.body) < 1000

    hostile = "Check --> <img src=x> @vish <!-- hidden"
    hub.reply(REPO, review.number, root, f"/followup Q11 {hostile}", user="daan")
    await review.box.settle()
    (issue,) = bot_issues(hub)
    assert issue.body.count("-->") == 1 and "<!--" in issue.body.split("-->", 1)[0]
    assert "<img" not in issue.body and "@vish" not in issue.body
    hub.close_issue(REPO, issue.number, user="daan")
    await review.box.settle()
    (followup,) = [item for item in review.records()["Q11"]["followups"] if item.get("number")]
    assert followup["state"] == "closed", "closing the issue still updates the record"


def many_questions(document: str, count: int) -> str:
    """The fixture with its §14 replaced by `count` generated questions."""
    head, _, _ = document.partition("## §14 Open questions for the maintainers")
    questions = "".join(f"**Q{n}.** Is component {n} out of scope? *(maps to §6)*\n\n" for n in range(1, count + 1))
    return f"{head}## §14 Open questions for the maintainers\n\n### Wave 1 — everything\n\n{questions}## Appendix\n\nNone.\n"


async def test_a_document_with_5000_questions_gets_one_remark_and_no_import(review: Review) -> None:
    hub = review.hub
    hub.push(REPO, "huge-model", {"docs/HUGE-THREAT-MODEL.md": many_questions(FIXTURE.read_text(encoding="utf-8"), 5000)}, user=AUTHOR, message="huge")
    huge = hub.open_pr(REPO, "huge-model", user=AUTHOR, title="A very large model")
    await review.box.settle()
    (remark,) = [c for c in hub.state.issue_comments.values() if c.issue_number == huge and c.user.endswith("[bot]")]
    assert "5000 questions" in remark.body and "500" in remark.body and len(remark.body) < 500
    state = load_pull_state(review.state_dir, REPO, huge)
    assert state.document_path is None and not list((review.state_dir / "repos").glob(f"*/*/pulls/{huge}/questions/*.yaml"))
    hub.comment(REPO, huge, "Q3: confirm", user="daan")
    await review.box.settle()
    assert await review.box.failed_deliveries() == 0


async def test_the_newest_of_several_same_second_edits_wins(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    reply = hub.reply(REPO, review.number, root, "/strike", user="daan")
    for body in ("/correct the key holder is the release manager", "/confirm"):
        hub.edit_comment(REPO, reply, body, user="daan")
    await review.box.settle()
    assert review.records()["Q3"]["status"] == "confirmed"
    reply = hub.reply(REPO, review.number, root, "/confirm", user="vish")
    for body in ("/strike", "/correct it is the release manager"):
        hub.edit_comment(REPO, reply, body, user="vish")
    await review.box.settle()
    assert review.records()["Q3"]["status"] == "corrected"


async def test_reconcile_refreshes_a_thread_notice_its_healed_record_disagrees_with(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "Is this still how it works?", user="passerby")
    await review.box.settle()
    assert "status: **open**" in notice_in(review, root).body
    hub.faults.drop_webhooks(times=1, event="pull_request_review_comment")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()
    assert "status: **open**" in notice_in(review, root).body, "the webhook was dropped"

    await review.box.scheduler.tick(reconcile_all=True)
    assert review.records()["Q3"]["status"] == "confirmed"
    assert "status: **confirmed**" in notice_in(review, root).body
    start = len(hub.requests)
    await review.box.scheduler.tick(reconcile_all=True)
    assert not [r for r in hub.requests[start:] if r.method == "PATCH"], "an agreeing notice is left alone"


async def test_a_followup_github_failed_to_open_is_retried_by_reconcile(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q5")
    hub.faults.error(f"/repos/{REPO}/issues", status=502, method="POST", times=None)
    hub.reply(REPO, review.number, root, "/confirm\n/followup Q5 Add a regression test for the cap", user="daan")
    await review.box.settle()
    assert review.records()["Q5"]["status"] == "confirmed" and not bot_issues(hub)
    assert await review.box.failed_deliveries() == 0

    hub.faults.clear()
    await review.box.scheduler.tick(reconcile_all=True)
    (issue,) = bot_issues(hub)
    assert issue.title == "Add a regression test for the cap"
    (followup,) = review.records()["Q5"]["followups"]
    assert followup["number"] == issue.number
    await review.box.scheduler.tick(reconcile_all=True)
    assert len(bot_issues(hub)) == 1, "never two issues for one follow-up"
