"""The workflow rules in bot.core.answers: what replies, edits, deletions and decisions do."""
from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.answers import (
    accept_proposals,
    add_followup,
    apply_reading,
    derive_status,
    mark_folded,
    record_offline_answer,
    reject_proposals,
    retract_comment,
    set_followup_issue,
)
from bot.core.model import Question, QuestionState, Span
from bot.core.reader_output import AnswerReading, Command, CommandName, FollowUpCue, Reading, Stance
from bot.core.records import Status, new_record_mapping, validate_record

T1, T2, T3 = "2026-06-11T09:00:00Z", "2026-06-11T10:00:00Z", "2026-06-12T08:00:00Z"


def record(question_id: str = "Q9") -> dict:
    question = Question(
        id=question_id,
        wave="Wave 3 — guests",
        span=Span(10, 14),
        text="Are cross-tenant timing channels out of scope?",
        proposed_answer="yes",
        maps_to=("§9",),
        state=QuestionState.OPEN,
    )
    return new_record_mapping(question, "draft-THREAT-MODEL.md")


def reading(
    stance: Stance | None = Stance.CONFIRM,
    *,
    question: str | None = "Q9",
    text: str = "yes, agreed",
    binding: bool = True,
    heuristic: bool = False,
    awaiting: tuple[str, ...] = (),
    commands: tuple[Command, ...] = (),
    followups: tuple[FollowUpCue, ...] = (),
    answers: tuple[AnswerReading, ...] | None = None,
) -> Reading:
    if answers is None:
        answers = (AnswerReading(question, stance, text),) if stance is not None else ()
    return Reading(
        question=question,
        stances=tuple(answer.stance for answer in answers),
        answers=answers,
        awaiting=awaiting,
        followups=followups,
        commands=commands,
        binding=binding,
        confidence=0.6 if heuristic else 1.0,
        heuristic=heuristic,
    )


def apply(mapping: dict, read: Reading, *, author: str = "maint-a", maintainer: bool = True, comment_id: int = 101, at: str = T1) -> list[str]:
    return apply_reading(
        mapping,
        read,
        author=author,
        association="MEMBER" if maintainer else "CONTRIBUTOR",
        is_maintainer=maintainer,
        comment_id=comment_id,
        url=f"https://github.com/o/r/pull/1#discussion_r{comment_id}",
        at=at,
    )


def test_a_maintainers_binding_confirm_confirms() -> None:
    mapping = record()
    changes = apply(mapping, reading(Stance.CONFIRM))
    assert mapping["status"] == "confirmed"
    assert "Q9: status open → confirmed" in changes
    (answer,) = mapping["answers"]
    assert answer["binding"] is True and answer["comment_id"] == 101 and answer["excerpt"] == "yes, agreed"
    assert validate_record(mapping, "Q09.yaml").status is Status.CONFIRMED


def test_binding_correct_and_strike_map_to_their_statuses() -> None:
    corrected, struck = record(), record()
    apply(corrected, reading(Stance.CORRECT, text="no: only the hypervisor's channels"))
    apply(struck, reading(Stance.STRIKE, text="drop it"))
    assert corrected["status"] == "corrected"
    assert struck["status"] == "struck"


def test_the_same_comment_twice_changes_nothing() -> None:
    mapping = record()
    apply(mapping, reading())
    snapshot = copy.deepcopy(mapping)
    assert apply(mapping, reading()) == []
    assert mapping == snapshot


def test_a_non_maintainer_is_recorded_but_never_moves_the_status() -> None:
    mapping = record()
    changes = apply(mapping, reading(Stance.CONFIRM, binding=True), author="drive-by", maintainer=False)
    assert mapping["status"] == "open"
    assert mapping["answers"][0]["binding"] is False
    assert not any("status" in change for change in changes)
    apply(mapping, reading(Stance.STRIKE), author="drive-by", maintainer=False, comment_id=102)
    assert mapping["status"] == "open"
    assert mapping["proposals"] == []


def test_a_maintainers_heuristic_reading_proposes_instead_of_deciding() -> None:
    mapping = record()
    apply(mapping, reading(Stance.CONFIRM, binding=False, heuristic=True))
    assert mapping["status"] == "open"
    assert mapping["answers"][0]["binding"] is False
    (proposal,) = mapping["proposals"]
    assert proposal["state"] == "proposed" and proposal["kind"] == "promote" and proposal["stance"] == "confirm"

    changes = accept_proposals(mapping, by="maint-b", at=T2)
    assert mapping["status"] == "confirmed"
    assert mapping["proposals"][0]["decided_by"] == "maint-b"
    assert "Q9: status open → confirmed" in changes
    assert accept_proposals(mapping, by="maint-b", at=T3) == []  # nothing pending any more


def test_a_rejected_proposal_leaves_the_status() -> None:
    mapping = record()
    apply(mapping, reading(Stance.CORRECT, binding=False, heuristic=True))
    reject_proposals(mapping, by="maint-b", at=T2)
    assert mapping["proposals"][0]["state"] == "rejected"
    assert mapping["status"] == "open"


def test_a_question_back_or_tentative_reply_keeps_the_status() -> None:
    mapping = record()
    apply(mapping, reading(Stance.QUESTION, text="what do you mean by timing?"))
    assert mapping["status"] == "open"
    apply(mapping, reading(Stance.CONFIRM), comment_id=102, at=T2)
    apply(mapping, reading(Stance.TENTATIVE, text="let me double-check"), comment_id=103, at=T3)
    assert mapping["status"] == "confirmed"
    assert len(mapping["answers"]) == 3


def test_delegation_awaits_and_the_awaited_answer_settles() -> None:
    mapping = record()
    apply(mapping, reading(Stance.DELEGATE, text="@maint-b knows this", awaiting=("maint-b",)))
    assert mapping["awaiting"] == ["maint-b"]
    assert mapping["status"] == "open"

    apply(mapping, reading(Stance.CONFIRM), author="reporter", maintainer=False, comment_id=102, at=T2)
    assert mapping["status"] == "open" and mapping["awaiting"] == ["maint-b"]  # input, settles nothing

    changes = apply(mapping, reading(Stance.CONFIRM, text="confirmed"), author="maint-b", comment_id=103, at=T3)
    assert mapping["awaiting"] == []
    assert mapping["status"] == "confirmed"
    assert "Q9: no longer awaiting maint-b" in changes


def test_a_maintainers_later_decision_settles_whoever_was_awaited() -> None:
    mapping = record()
    apply(mapping, reading(Stance.DELEGATE, text="@maint-b knows this", awaiting=("maint-b",)), comment_id=101, at=T1)
    changes = apply(mapping, reading(Stance.CONFIRM), author="maint-a", comment_id=102, at=T2)
    assert mapping["awaiting"] == [] and mapping["status"] == "confirmed"
    assert "Q9: no longer awaiting maint-b" in changes


def test_a_decision_and_an_ask_in_one_comment_keep_the_ask() -> None:
    mapping = record()
    read = reading(Stance.CONFIRM, commands=(Command(CommandName.ASK, question="Q9", login="maint-c"),))
    apply(mapping, read, comment_id=101, at=T1)
    assert mapping["awaiting"] == ["maint-c"] and mapping["status"] == "answered"


def test_a_non_maintainers_ask_is_recorded_but_awaits_nobody() -> None:
    mapping = record()
    apply(mapping, reading(Stance.CONFIRM), author="maint-a", comment_id=101, at=T1)
    assert mapping["status"] == "confirmed"
    read = reading(None, commands=(Command(CommandName.ASK, question="Q9", login="maint-c"),))
    changes = apply(mapping, read, author="passerby", maintainer=False, comment_id=102, at=T2)
    assert mapping["status"] == "confirmed" and mapping["awaiting"] == []
    asked = mapping["answers"][1]
    assert asked["asks"] == ["maint-c"] and asked["asks_binding"] is False and asked["binding"] is False
    assert changes and not any("awaiting" in change or "status" in change for change in changes)


def test_ask_command_adds_the_login_to_awaiting() -> None:
    mapping = record()
    read = reading(None, commands=(Command(CommandName.ASK, question="Q09", login="maint-c"),))
    apply(mapping, read)
    assert mapping["awaiting"] == ["maint-c"]
    assert mapping["answers"][0]["stance"] == "delegate"
    assert mapping["answers"][0]["asks"] == ["maint-c"]


def test_confirm_command_for_this_question_is_an_answer() -> None:
    mapping = record()
    apply(mapping, reading(None, question=None, commands=(Command(CommandName.CONFIRM, question="Q9"),)))
    assert mapping["status"] == "confirmed"


def test_a_bulk_reply_only_records_this_questions_part() -> None:
    mapping = record("Q10")
    answers = (AnswerReading("Q9", Stance.STRIKE, "drop Q9"), AnswerReading("Q10", Stance.CONFIRM, "Q10 is right"))
    apply(mapping, reading(question=None, answers=answers))
    assert [answer["excerpt"] for answer in mapping["answers"]] == ["Q10 is right"]
    assert mapping["status"] == "confirmed"
    assert apply(record("Q11"), reading(question=None, answers=answers)) == []


def test_an_edit_replaces_the_answer() -> None:
    mapping = record()
    apply(mapping, reading(Stance.CONFIRM), at=T1)
    changes = apply(mapping, reading(Stance.CORRECT, text="correction: only the hypervisor's"), at=T2)
    (answer,) = mapping["answers"]
    assert answer["stance"] == "correct" and answer["at"] == T2
    assert mapping["status"] == "corrected"
    assert any("comment edited" in change for change in changes)


def test_an_edit_arriving_before_its_create_wins() -> None:
    in_order, out_of_order = record(), record()
    create, edit = reading(Stance.CONFIRM), reading(Stance.STRIKE, text="strike it")
    apply(in_order, create, at=T1)
    apply(in_order, edit, at=T2)
    apply(out_of_order, edit, at=T2)
    assert apply(out_of_order, create, at=T1) == []  # the stale create is ignored
    assert out_of_order == in_order
    assert out_of_order["status"] == "struck"


def test_deleting_a_comment_withdraws_its_answer_and_recomputes() -> None:
    mapping = record()
    apply(mapping, reading(Stance.CONFIRM), comment_id=101, at=T1)
    apply(mapping, reading(Stance.STRIKE), comment_id=102, at=T2)
    assert mapping["status"] == "struck"
    changes = retract_comment(mapping, 102)
    assert mapping["status"] == "confirmed"  # the remaining answer decides again
    assert "Q9: status struck → confirmed" in changes
    retract_comment(mapping, 101)
    assert mapping["status"] == "open" and mapping["answers"] == []
    assert apply(mapping, reading(Stance.CONFIRM), comment_id=101, at=T3) == []  # no resurrection
    assert retract_comment(mapping, 999) == []


def test_deleting_the_delegation_stops_awaiting() -> None:
    mapping = record()
    apply(mapping, reading(Stance.CONFIRM), comment_id=101, at=T1)
    apply(mapping, reading(Stance.DELEGATE, awaiting=("maint-b",)), comment_id=102, at=T2)
    assert mapping["status"] == "answered"
    retract_comment(mapping, 102)
    assert mapping["awaiting"] == [] and mapping["status"] == "confirmed"


def test_a_hand_added_awaited_login_stays_until_they_answer() -> None:
    mapping = record()
    mapping["awaiting"] = ["maint-z"]
    apply(mapping, reading(Stance.CONFIRM), comment_id=101, at=T1)
    assert mapping["awaiting"] == ["maint-z"] and mapping["status"] == "answered"
    apply(mapping, reading(Stance.CONFIRM), author="maint-z", comment_id=102, at=T2)
    assert mapping["awaiting"] == [] and mapping["status"] == "confirmed"


def test_the_latest_binding_decision_wins() -> None:
    mapping = record()
    apply(mapping, reading(Stance.CORRECT), author="maint-a", comment_id=101, at=T2)
    apply(mapping, reading(Stance.CONFIRM), author="maint-b", comment_id=102, at=T1)
    assert mapping["status"] == "corrected"


def test_offline_answers_are_recorded_once_and_delegate() -> None:
    mapping = record()
    record_offline_answer(mapping, author="maint-a", stance=Stance.CONFIRM, excerpt="in scope only as placement", asks=("maint-b",))
    assert mapping["status"] == "answered" and mapping["awaiting"] == ["maint-b"]
    assert mapping["answers"][0]["source"] == "document" and mapping["answers"][0]["comment_id"] is None
    assert record_offline_answer(mapping, author="maint-a", stance=Stance.CONFIRM, excerpt="in scope only as placement", asks=("maint-b",)) == []
    apply(mapping, reading(Stance.CONFIRM), author="maint-b", comment_id=7, at=T1)
    assert mapping["status"] == "confirmed"


def test_maintainer_followups_are_added_once() -> None:
    mapping = record()
    cue = FollowUpCue("Q9", "Re-test the timer in code", "we should re-test this")
    apply(mapping, reading(Stance.CONFIRM, followups=(cue,)))
    assert [item["title"] for item in mapping["followups"]] == ["Re-test the timer in code"]
    assert add_followup(mapping, "  re-test the TIMER in code. ", "test") is False
    assert add_followup(mapping, "Document the timer", "docs") is True
    non_maintainer = record()
    apply(non_maintainer, reading(Stance.CONFIRM, followups=(cue,)), maintainer=False)
    assert non_maintainer["followups"] == []


def test_followup_issue_and_fold() -> None:
    mapping = record()
    add_followup(mapping, "Re-test the timer", "test")
    assert set_followup_issue(mapping, "re-test the timer", 42, "https://github.com/o/r/issues/42", "open") is True
    assert set_followup_issue(mapping, "re-test the timer", 42, "https://github.com/o/r/issues/42", "open") is False
    assert mapping["followups"][0]["number"] == 42 and mapping["followups"][0]["state"] == "open"
    apply(mapping, reading(Stance.CONFIRM, binding=False, heuristic=True))
    accept_proposals(mapping, by="maint-a", at=T2)
    assert mark_folded(mapping, T3) is True
    assert mapping["status"] == "folded" and mapping["proposals"][0]["state"] == "applied"
    assert mark_folded(mapping, T3) is False
    assert derive_status(mapping) is Status.FOLDED


# --- properties -------------------------------------------------------------------------

LOGINS = ("maint-a", "maint-b", "maint-c", "drive-by")
TIMES = (None, T1, T2, T3)

offline_answers = st.lists(
    st.fixed_dictionaries(
        {
            "author": st.sampled_from(LOGINS),
            "stance": st.sampled_from(list(Stance)),
            "binding": st.booleans(),
            "asks": st.lists(st.sampled_from(LOGINS), max_size=2, unique=True),
            "at": st.sampled_from(TIMES),
        }
    ),
    max_size=3,
)
events = st.lists(
    st.fixed_dictionaries(
        {
            "comment_id": st.integers(1, 5),
            "author": st.sampled_from(LOGINS),
            "maintainer": st.booleans(),
            "stance": st.sampled_from(list(Stance)),
            "binding": st.booleans(),
            "heuristic": st.booleans(),
            "awaiting": st.lists(st.sampled_from(LOGINS), max_size=2, unique=True),
            "at": st.sampled_from(TIMES[1:]),
        }
    ),
    max_size=8,
)


def baseline(answers: list[dict]) -> dict:
    mapping = record()
    for index, answer in enumerate(answers):
        record_offline_answer(mapping, excerpt=f"offline answer {index}", **answer)
    return mapping


def play(mapping: dict, event: dict) -> None:
    apply(
        mapping,
        reading(event["stance"], binding=event["binding"], heuristic=event["heuristic"], awaiting=tuple(event["awaiting"])),
        author=event["author"],
        maintainer=event["maintainer"],
        comment_id=event["comment_id"],
        at=event["at"],
    )


@settings(max_examples=300, deadline=None)
@given(offline_answers, events)
def test_retracting_every_comment_returns_to_the_document_baseline(answers: list[dict], sequence: list[dict]) -> None:
    mapping = baseline(answers)
    expected_status, expected_awaiting = mapping["status"], list(mapping["awaiting"])
    assert mapping["status"] == derive_status(mapping).value
    for event in sequence:
        play(mapping, event)
        validate_record(mapping, "Q09.yaml")  # every intermediate record stays valid
    for comment_id in {event["comment_id"] for event in sequence}:
        retract_comment(mapping, comment_id)
    assert mapping["status"] == expected_status
    assert mapping["awaiting"] == expected_awaiting
    assert mapping["proposals"] == []
    assert all(answer["comment_id"] is None for answer in mapping["answers"])


@settings(max_examples=200, deadline=None)
@given(offline_answers, events, st.randoms(use_true_random=False))
def test_arrival_order_does_not_matter(answers: list[dict], sequence: list[dict], shuffler) -> None:
    in_order, shuffled = baseline(answers), baseline(answers)
    for event in sequence:
        play(in_order, event)
    reordered = list(sequence)
    shuffler.shuffle(reordered)
    for event in reordered:
        play(shuffled, event)

    def settled(mapping: dict) -> tuple:
        answers_by_comment = sorted(mapping["answers"], key=lambda answer: (answer["comment_id"] or 0, answer["excerpt"]))
        proposals = sorted(mapping["proposals"], key=lambda proposal: proposal["id"])
        return mapping["status"], mapping["awaiting"], answers_by_comment, proposals, mapping["updated_at"]

    assert settled(shuffled) == settled(in_order)


def test_an_unclear_bulk_line_is_recorded_but_binds_nothing() -> None:
    from bot.core.commands_parser import ANY_QUESTION
    from bot.core.reader import read_reply

    mapping = {"id": "Q9", "status": "open"}
    reading = read_reply(
        "Q9: correct - the scheduler also runs on the agents",
        author="alice",
        association="MEMBER",
        is_maintainer=True,
        anchored_question=None,
        known_questions=ANY_QUESTION,
    )
    apply_reading(mapping, reading, author="alice", association="MEMBER", is_maintainer=True, comment_id=1, url=None, at="2026-06-01T10:00:00Z")
    assert mapping["answers"][0]["stance"] == "unclear"
    assert mapping["answers"][0]["binding"] is False
    assert mapping["status"] == "open"
