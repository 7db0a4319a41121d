"""Every event the App handles, and every stance a reply can take, end to end."""
from __future__ import annotations

from e2e_world import AUTHOR, BRANCH, DOC, FIXTURE, Review, answers_by, api_calls_since, notice_in, thread_on

from bot.sandbox import REPO


async def test_a_push_that_changes_the_document_moves_the_spans_and_new_comments_map_right(review: Review) -> None:
    hub = review.hub
    before = review.line_of("Q5")
    text = FIXTURE.read_text(encoding="utf-8").replace("## §2 Scope", "A note the author added.\n\nAnother one.\n\n## §2 Scope", 1)
    hub.push(REPO, BRANCH, {DOC: text}, user=AUTHOR, message="Two notes above the scope")
    await review.box.settle()
    state = review.state()
    assert state.head_sha == hub.head_sha(REPO, BRANCH)
    assert review.line_of("Q5") == before + 4
    assert review.records()["Q5"]["lines"][0] == before + 4

    root = hub.review_comment(REPO, review.number, DOC, before + 4, "About the size cap", user=AUTHOR)
    hub.reply(REPO, review.number, root, "/strike", user="daan")
    await review.box.settle()
    assert review.state().threads[str(root)] == "Q5"
    assert review.records()["Q5"]["status"] == "struck"


async def test_an_edited_reply_is_re_read_and_a_deleted_one_retracted(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q12")
    reply = hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()
    assert review.records()["Q12"]["status"] == "confirmed"

    hub.edit_comment(REPO, reply, "/strike", user="daan")
    await review.box.settle()
    record = review.records()["Q12"]
    assert record["status"] == "struck"
    assert [a["stance"] for a in answers_by(record, "daan")] == ["strike"], "the edit replaces the answer"

    hub.delete_comment(REPO, reply, user="daan")
    await review.box.settle()
    record = review.records()["Q12"]
    assert record["status"] == "open"
    assert not answers_by(record, "daan")
    assert reply in record["retracted"]
    assert "status: **open**" in notice_in(review, root).body


async def test_a_review_body_carrying_bulk_answers_is_folded_in(review: Review) -> None:
    review.hub.submit_review(REPO, review.number, user="daan", event="COMMENT", body="Q8: confirm\nQ12: strike no, keep it out of the repo")
    await review.box.settle()
    records = review.records()
    assert records["Q8"]["status"] == "confirmed" and records["Q12"]["status"] == "struck"
    assert answers_by(records["Q8"], "daan")[0]["binding"] is True
    summaries = [c for c in review.hub.state.issue_comments.values() if c.user.endswith("[bot]")]
    assert len(summaries) == 1 and "**Q8**: confirmed" in summaries[0].body and "**Q12**: struck" in summaries[0].body


async def test_a_conversation_comment_is_read_re_read_on_edit_and_retracted_on_delete(review: Review) -> None:
    hub = review.hub
    comment = hub.comment(REPO, review.number, "Q6: confirm\nQ8: confirm", user="vish")
    await review.box.settle()
    assert {review.records()[q]["status"] for q in ("Q6", "Q8")} == {"confirmed"}

    hub.edit_comment(REPO, comment, "Q6: strike", user="vish")
    await review.box.settle()
    records = review.records()
    assert records["Q6"]["status"] == "struck"
    assert records["Q8"]["status"] == "open", "the line the edit removed no longer counts"

    hub.delete_comment(REPO, comment, user="vish")
    await review.box.settle()
    records = review.records()
    assert records["Q6"]["status"] == "open" and not answers_by(records["Q6"], "vish")
    bot_summaries = [c for c in hub.state.issue_comments.values() if c.user.endswith("[bot]")]
    assert len(bot_summaries) == 1, "one PR-level notice, edited"


async def test_a_correction_is_recorded_and_left_for_a_human_never_rewritten(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q12")
    hub.reply(REPO, review.number, root, "/correct it belongs on the website, linked from SECURITY.md", user="daan")
    await review.box.settle()
    record = review.records()["Q12"]
    assert record["status"] == "corrected"
    assert answers_by(record, "daan")[0]["stance"] == "correct" and answers_by(record, "daan")[0]["binding"] is True
    notice = notice_in(review, root).body
    assert "Left for a person" in notice and "Q12 was corrected by daan" in notice

    hub.comment(REPO, review.number, "/accept", user="vish")
    await review.box.settle()
    assert hub.file(REPO, DOC, ref=BRANCH) == FIXTURE.read_text(encoding="utf-8"), "a correction is never rewritten by machine"
    assert review.records()["Q12"]["status"] == "corrected"
    assert hub.count_requests("POST", "/repos/*/git/commits") == 0


async def test_strike_question_back_and_tentative_are_recorded_with_their_stance(review: Review) -> None:
    hub = review.hub
    replies = {"Q5": "/strike", "Q6": "Why do you ask? Which packaging do you mean?", "Q10": "I think so, but let me double-check"}
    roots = {}
    for question, body in replies.items():
        roots[question] = await thread_on(review, question)
        hub.reply(REPO, review.number, roots[question], body, user="daan")
    await review.box.settle()
    records = review.records()
    stances = {q: [a["stance"] for a in answers_by(records[q], "daan")] for q in replies}
    assert stances == {"Q5": ["strike"], "Q6": ["question"], "Q10": ["tentative"]}
    assert records["Q5"]["status"] == "struck"
    assert records["Q6"]["status"] == "open" and records["Q10"]["status"] == "open", "neither answers the question"
    assert not records["Q10"].get("proposals"), "a tentative reply proposes nothing"
    for question, root in roots.items():
        assert f"status: **{records[question]['status']}**" in notice_in(review, root).body


async def test_with_default_settings_an_awaited_org_member_is_mentioned_after_one_membership_check(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q8")
    start = len(hub.requests)
    hub.reply(REPO, review.number, root, "@vish can you answer this one? As @passerby noted, the port matters", user="daan")
    await review.box.settle()
    assert "@vish" in notice_in(review, root).body and "@passerby" not in notice_in(review, root).body
    calls = api_calls_since(hub, start)
    assert len(calls) <= 3, [(r.method, r.path) for r in calls]
    assert sum(1 for r in calls if r.path.startswith("/orgs/")) == 1

    # Asked once per person: a second delegation to vish asks GitHub nothing more.
    start = len(hub.requests)
    hub.reply(REPO, review.number, root, "@vish ping", user="daan")
    await review.box.settle()
    assert not [r for r in api_calls_since(hub, start) if r.path.startswith("/orgs/")]


async def test_delegation_awaits_the_other_maintainer_and_only_awaited_maintainers_are_mentioned(review: Review) -> None:
    hub = review.hub
    # Maintainers listed by login, so the bot knows vish is one before vish ever writes.
    hub.push(REPO, "main", {".github/threat-model-bot.yml": "maintainers:\n  logins: [daan, vish]\n"}, user="daan", message="bot settings")
    await review.box.settle()
    root = await thread_on(review, "Q8")
    hub.reply(REPO, review.number, root, "@vish can you answer this one? Thanks @passerby for the pointer.", user="daan")
    await review.box.settle()
    record = review.records()["Q8"]
    assert "vish" in record["awaiting"]
    assert answers_by(record, "daan")[0]["stance"] == "delegate"
    body = notice_in(review, root).body
    assert "@vish" in body
    assert "@passerby" not in body and "@daan" not in body, "only awaited maintainers are pinged"

    hub.reply(REPO, review.number, root, "/confirm", user="vish")
    await review.box.settle()
    record = review.records()["Q8"]
    assert "vish" not in record["awaiting"] and record["status"] == "confirmed"
    assert "@vish" not in notice_in(review, root).body, "no one is pinged once nobody is awaited"


async def test_an_off_github_answer_is_recorded_with_its_source(review: Review) -> None:
    review.hub.comment(REPO, review.number, "/answer Q11 confirm the PMC agreed on the list on dev@", user="daan")
    await review.box.settle()
    record = review.records()["Q11"]
    assert record["status"] == "confirmed"
    off_github = [a for a in record["answers"] if a.get("source") != "github"]
    assert len(off_github) == 1 and off_github[0]["stance"] == "confirm" and off_github[0]["binding"] is True


async def test_questions_help_answers_with_every_command(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "/questions help", user=AUTHOR)
    await review.box.settle()
    body = notice_in(review, root).body
    for command in ("/confirm", "/correct", "/strike", "/accept", "/followup", "/answer"):
        assert command in body, command
    assert review.records()["Q3"]["status"] == "open"
