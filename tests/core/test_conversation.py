"""The fold of a PR conversation into records: one comment at a time, or a whole replay."""
from __future__ import annotations

import random

from bot.core.conversation import Comment, apply_comment, question_for_comment, rebuild, replay, retract

DOC = "draft-THREAT-MODEL.md"
SPANS = {"Q8": [10, 14], "Q9": [16, 22], "Q10": [24, 27]}


def records() -> dict[str, dict]:
    return {
        question_id: {"id": question_id, "status": "open", "awaiting": [], "answers": [], "proposals": [], "followups": []}
        for question_id in ("Q8", "Q9", "Q10")
    }


def substance(state: dict[str, dict]) -> dict[str, dict]:
    return {qid: {key: value for key, value in mapping.items() if key != "updated_at"} for qid, mapping in state.items()}


def comment(
    comment_id: int,
    body: str,
    *,
    author: str = "alice",
    association: str = "MEMBER",
    kind: str = "review_comment",
    line: int | None = 18,
    reply_to: int | None = None,
    at: str = "2026-06-02T10:00:00Z",
    bot: bool = False,
) -> Comment:
    return Comment(
        id=comment_id,
        kind=kind,
        body=body,
        author=author,
        association=association,
        author_is_bot=bot,
        created_at=at,
        updated_at=at,
        url=f"https://example.test/pull/1#discussion_r{comment_id}",
        path=DOC if kind == "review_comment" else None,
        line=line if kind == "review_comment" else None,
        in_reply_to_id=reply_to,
    )


def test_a_thread_maps_to_the_question_under_its_first_comment() -> None:
    first = comment(1, "Is this right?", line=20)
    assert question_for_comment(first, document_path=DOC, spans=SPANS, threads={}, known=SPANS) == "Q9"
    reply = comment(2, "yes", reply_to=1, line=None)
    assert question_for_comment(reply, document_path=DOC, spans=SPANS, threads={"1": "Q9"}, known=SPANS) == "Q9"
    # A reply to a first comment never seen cannot be placed by lines: the caller looks it up.
    assert question_for_comment(reply, document_path=DOC, spans=SPANS, threads={}, known=SPANS) is None


def test_a_first_comment_off_the_question_lines_maps_by_the_single_question_it_names() -> None:
    off_lines = comment(3, "About Q10 — the wording here.", line=200)
    assert question_for_comment(off_lines, document_path=DOC, spans=SPANS, threads={}, known=SPANS) == "Q10"
    two_named = comment(4, "Q8 and Q10 overlap", line=200)
    assert question_for_comment(two_named, document_path=DOC, spans=SPANS, threads={}, known=SPANS) is None


def test_a_maintainer_command_binds_and_a_repeat_changes_nothing() -> None:
    state = records()
    outcome = apply_comment(state, comment(5, "/confirm"), is_maintainer=True, question="Q9")
    assert state["Q9"]["status"] == "confirmed"
    assert outcome.touched == ["Q9"]
    again = apply_comment(state, comment(5, "/confirm"), is_maintainer=True, question="Q9")
    assert again.changes == [] and len(state["Q9"]["answers"]) == 1


def test_a_non_maintainer_trying_every_command_changes_no_status() -> None:
    state = records()
    body = "/confirm Q8\n/strike Q9\n/correct Q10 it is the other port\n/accept\n/reject\n/followup Q8 open a ticket"
    outcome = apply_comment(state, comment(6, body, author="mallory", association="NONE", kind="issue_comment"), is_maintainer=False, question=None)
    assert {mapping["status"] for mapping in state.values()} == {"open"}
    assert not outcome.fold_requested and outcome.followups_to_open == []
    assert any("not a maintainer" in note for note in outcome.notes)
    # Their words are still recorded as input.
    assert all(answer["binding"] is False for mapping in state.values() for answer in mapping["answers"])


def test_a_heuristic_reply_only_proposes_and_accept_makes_it_binding_and_asks_for_a_fold() -> None:
    state = records()
    apply_comment(state, comment(7, "Yes, that matches how we ship it."), is_maintainer=True, question="Q9")
    assert state["Q9"]["status"] == "open"
    assert [proposal["state"] for proposal in state["Q9"]["proposals"]] == ["proposed"]
    outcome = apply_comment(state, comment(8, "/accept", reply_to=7, at="2026-06-03T09:00:00Z"), is_maintainer=True, question="Q9")
    assert outcome.fold_requested
    assert state["Q9"]["status"] == "confirmed"


def test_a_pr_level_accept_covers_every_pending_proposal() -> None:
    state = records()
    apply_comment(state, comment(9, "Agreed.", line=12), is_maintainer=True, question="Q8")
    apply_comment(state, comment(10, "Sounds right to me.", line=25), is_maintainer=True, question="Q10")
    outcome = apply_comment(state, comment(11, "/accept", kind="issue_comment", at="2026-06-04T00:00:00Z"), is_maintainer=True, question=None)
    assert sorted(outcome.touched) == ["Q10", "Q8"]
    assert state["Q8"]["status"] == state["Q10"]["status"] == "confirmed"


def test_followup_command_asks_the_caller_to_open_an_issue() -> None:
    state = records()
    outcome = apply_comment(state, comment(12, "/followup Re-test the link expiry"), is_maintainer=True, question="Q9")
    assert outcome.followups_to_open == [("Q9", "Re-test the link expiry")]
    assert [item["title"] for item in state["Q9"]["followups"]] == ["Re-test the link expiry"]


def test_bulk_answers_at_pr_level_touch_each_question() -> None:
    state = records()
    body = "Q8: confirm\nQ9 - correct: the limit is one MiB\nQ10 strike"
    outcome = apply_comment(state, comment(13, body, kind="issue_comment"), is_maintainer=True, question=None)
    assert {q: state[q]["status"] for q in state} == {"Q8": "confirmed", "Q9": "corrected", "Q10": "struck"}
    assert sorted(outcome.touched) == ["Q10", "Q8", "Q9"]


def test_bot_comments_are_ignored() -> None:
    state = records()
    outcome = apply_comment(state, comment(14, "/confirm", bot=True), is_maintainer=True, question="Q9")
    assert outcome.ignored and state["Q9"]["answers"] == []


def test_a_deleted_comment_is_withdrawn_everywhere() -> None:
    state = records()
    apply_comment(state, comment(15, "Q8: confirm\nQ9: confirm", kind="issue_comment"), is_maintainer=True, question=None)
    retract(state, 15, "2026-06-05T00:00:00Z")
    assert state["Q8"]["status"] == state["Q9"]["status"] == "open"


def test_replay_gives_the_same_records_whatever_order_comments_come_in() -> None:
    history = [
        comment(20, "Does this hold for upgrades?", author="asf-author", association="CONTRIBUTOR", line=12, at="2026-06-01T00:00:00Z"),
        comment(21, "/confirm", reply_to=20, line=None, at="2026-06-02T00:00:00Z"),
        comment(22, "Open question on the boundary", author="asf-author", association="CONTRIBUTOR", line=18, at="2026-06-01T01:00:00Z"),
        comment(23, "Yes. @bob can you confirm the boundary?", reply_to=22, line=None, at="2026-06-03T00:00:00Z"),
        comment(24, "Q10 - correct: it is zero by default", kind="issue_comment", at="2026-06-04T00:00:00Z"),
    ]

    def maintainer(item: Comment) -> bool:
        return item.association == "MEMBER"

    expected = records()
    replay(expected, history, is_maintainer=maintainer, document_path=DOC, spans=SPANS, threads={})
    assert expected["Q8"]["status"] == "confirmed"
    assert expected["Q9"]["awaiting"] == ["bob"]
    assert expected["Q10"]["status"] == "corrected"
    for seed in range(5):
        shuffled = history[:]
        random.Random(seed).shuffle(shuffled)
        again = records()
        replay(again, shuffled, is_maintainer=maintainer, document_path=DOC, spans=SPANS, threads={})
        assert again == expected


def test_rebuild_drops_what_was_recorded_from_since_deleted_comments_and_equals_a_fresh_replay() -> None:
    history = [
        comment(30, "Q8: confirm", kind="issue_comment", at="2026-06-01T00:00:00Z"),
        comment(31, "Q9: strike", kind="issue_comment", at="2026-06-02T00:00:00Z"),
    ]
    kept = dict(
        author="pmc", association="MEMBER", stance="confirm", excerpt="said on the list",
        binding=True, comment_id=None, source="mailing-list", at="2026-05-01T00:00:00Z",
    )

    def maintainer(item: Comment) -> bool:
        return True

    webhook_built = records()
    webhook_built["Q10"]["answers"].append(dict(kept))
    webhook_built["Q10"]["status"] = "confirmed"
    replay(webhook_built, history, is_maintainer=maintainer, document_path=DOC, spans=SPANS, threads={})
    # Comment 31 was deleted while the service was down: only the rebuild notices.
    rebuilt = webhook_built
    rebuild(rebuilt, history[:1], is_maintainer=maintainer, document_path=DOC, spans=SPANS, threads={})

    fresh = records()
    fresh["Q10"]["answers"].append(dict(kept))
    fresh["Q10"]["status"] = "confirmed"
    replay(fresh, history[:1], is_maintainer=maintainer, document_path=DOC, spans=SPANS, threads={})
    # updated_at truthfully says Q9 changed; everything else must match a fresh replay.
    assert substance(rebuilt) == substance(fresh)
    assert rebuilt["Q9"]["status"] == "open" and rebuilt["Q10"]["status"] == "confirmed"
