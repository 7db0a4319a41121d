"""A maintainer's inline replies, end to end over the local GitHub."""
from __future__ import annotations

from e2e_world import AUTHOR, DOC, FIXTURE, PASSERBY, Review, bot_issues

from bot.sandbox import REPO


async def test_opening_the_pr_imports_every_question_with_its_lines(review: Review) -> None:
    records = review.records()
    assert list(records) == [f"Q{n}" for n in range(1, 13)]
    assert review.state().document_path == DOC
    assert review.line_of("Q3") == 136
    assert records["Q3"]["status"] == "open"


async def test_a_maintainer_confirmation_is_recorded_and_answered_once_in_the_thread(review: Review) -> None:
    hub = review.hub
    root = hub.review_comment(REPO, review.number, DOC, review.line_of("Q3"), "Q3 — is the key holder out of scope?", user=AUTHOR)
    await review.box.settle()
    before = len(hub.requests)
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()
    calls = [r for r in hub.requests[before:]]

    record = review.records()["Q3"]
    assert record["status"] == "confirmed"
    by_author = {answer["author"]: answer for answer in record["answers"]}
    assert by_author["daan"]["binding"] is True and by_author["daan"]["stance"] == "confirm"
    assert by_author[AUTHOR]["binding"] is False  # the opening question is input, not an answer
    notices = review.bot_comments()
    assert len(notices) == 1 and notices[0].in_reply_to_id == root
    assert "status: **confirmed**" in notices[0].body and "/accept" in notices[0].body
    # One maintainer reply costs at most 3 API calls (token fetches excluded: they are cached).
    api_calls = [r for r in calls if not r.path.startswith("/app/")]
    assert len(api_calls) <= 3, [(r.method, r.path) for r in api_calls]

    hub.reply(REPO, review.number, root, "Thanks!", user=AUTHOR)
    await review.box.settle()
    assert len(review.bot_comments()) == 1, "the notice is edited, never posted twice"


async def test_a_non_maintainer_trying_every_command_changes_nothing(review: Review) -> None:
    hub = review.hub
    root = hub.review_comment(REPO, review.number, DOC, review.line_of("Q5"), "Q5?", user=AUTHOR)
    for body in ("/confirm", "/strike", "/correct the cap is 2 MiB", "/accept", "/reject", "/followup add a size test", "/ask @daan",
                 "/answer Q5 confirm agreed on the list"):
        hub.reply(REPO, review.number, root, body, user=PASSERBY)
    hub.comment(REPO, review.number, "Q5: confirm\nQ6: strike\n/followup Q6 a test\n/accept", user=PASSERBY)
    hub.submit_review(REPO, review.number, user=PASSERBY, body="Q5: strike\n/accept")
    await review.box.settle()
    records = review.records()
    assert records["Q5"]["status"] == "open" and records["Q6"]["status"] == "open"
    assert all(answer["binding"] is False for answer in records["Q5"]["answers"])
    assert hub.file(REPO, DOC, ref="threat-model") == (await _original(review))
    assert not bot_issues(hub)
    assert hub.count_requests("POST", "/repos/*/git/commits") == 0


async def _original(review: Review) -> str:
    return FIXTURE.read_text(encoding="utf-8")


async def test_accept_folds_the_confirmed_answers_in_one_commit_and_resolves_the_threads(review: Review) -> None:
    hub = review.hub
    roots = {}
    for question in ("Q3", "Q6", "Q10"):
        roots[question] = hub.review_comment(REPO, review.number, DOC, review.line_of(question), f"{question}?", user=AUTHOR)
        hub.reply(REPO, review.number, roots[question], "/confirm", user="daan")
    await review.box.settle()
    commits_before = hub.count_requests("POST", "/repos/apache/cloudstack/git/commits")

    hub.comment(REPO, review.number, "/accept", user="vish")
    await review.box.settle()

    assert hub.count_requests("POST", "/repos/apache/cloudstack/git/commits") - commits_before == 1
    text = hub.file(REPO, DOC, ref="threat-model")
    assert "*(inferred — §14 Q3)*" not in text and "§14 Q3)*" in text
    records = review.records()
    assert {records[q]["status"] for q in ("Q3", "Q6", "Q10")} == {"folded"}
    for question, root in roots.items():
        assert hub.state.thread_of(root).resolved, question
