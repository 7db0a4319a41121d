"""Reading replies: explicit commands bind, free text only proposes.

The reply texts are our own, written in the styles maintainers use on real threat-model
reviews (bold one-word answers, "confirmed, ..." with detail, a bare fact that amends the
draft, "indeed", "not intentional — ...", pings to a colleague)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.commands_parser import ANY_QUESTION
from bot.core.reader import HELP_TEXT, is_maintainer_association, read_reply
from bot.core.reader_output import CommandName, Reading, Stance

KNOWN = frozenset(f"Q{number}" for number in range(1, 40))
# The shared corpus sits next to the repository; with CI set, a missing corpus fails.
CORPUS_THREADS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "threads"
CORPUS_MISSING = not CORPUS_THREADS.is_dir() and not os.environ.get("CI")


def read(body: str, *, anchored: str | None = "Q7", maintainer: bool = True, author: str = "maint") -> Reading:
    return read_reply(
        body,
        author=author,
        association="MEMBER" if maintainer else "CONTRIBUTOR",
        is_maintainer=maintainer,
        anchored_question=anchored,
        known_questions=KNOWN,
    )


def pairs(reading: Reading) -> list[tuple[str | None, Stance]]:
    return [(answer.question, answer.stance) for answer in reading.answers]


# ----------------------------------------------------------------- associations and help


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR", "member"])
def test_owner_member_collaborator_are_maintainers(association: str) -> None:
    assert is_maintainer_association(association)


@pytest.mark.parametrize("association", ["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "MANNEQUIN", "NONE", ""])
def test_other_associations_are_not(association: str) -> None:
    assert not is_maintainer_association(association)


def test_help_lists_every_command() -> None:
    for command in ("/confirm", "/correct", "/strike", "/ask", "/followup", "/accept", "/reject", "/answer", "/questions help"):
        assert command in HELP_TEXT


# ----------------------------------------------------------------- explicit layer


def test_a_maintainers_commands_bind_with_full_confidence() -> None:
    reading = read("Looks fine to me.\n\n/confirm\n")
    assert (reading.binding, reading.heuristic, reading.confidence) == (True, False, 1.0)
    assert pairs(reading) == [("Q7", Stance.CONFIRM)]
    assert reading.commands[0].question == "Q7"  # resolved to the thread's question


def test_a_non_maintainers_commands_are_read_but_do_not_bind() -> None:
    reading = read("/strike Q9", maintainer=False)
    assert pairs(reading) == [("Q9", Stance.STRIKE)]
    assert not reading.binding and not reading.heuristic


def test_bulk_answers_in_one_comment() -> None:
    body = (
        "Going through the list:\n"
        "Q8: confirm\n"
        "Q9 - correct: the listener is off unless a test profile enables it\n"
        "Q10 strike\n"
        "Q12 - yes\n"
        "- Q13: agreed\n"
        "**Q14**: confirmed\n"
    )
    reading = read(body, anchored=None)
    assert pairs(reading) == [
        ("Q8", Stance.CONFIRM),
        ("Q9", Stance.CORRECT),
        ("Q10", Stance.STRIKE),
        ("Q12", Stance.CONFIRM),
        ("Q13", Stance.CONFIRM),
        ("Q14", Stance.CONFIRM),
    ]
    assert reading.answers[1].text == "the listener is off unless a test profile enables it"
    assert reading.binding and reading.confidence == 1.0
    assert reading.question is None  # several questions, no thread
    assert reading.to_json()["stances"] == ["confirm", "correct", "strike"]


def test_ask_followup_and_off_github_answer() -> None:
    body = "/ask @erin\n/followup Add a regression test for the upload cap\n/answer Q20 correct the cap is 2 MiB, per dev@"
    reading = read(body, anchored="Q11")
    assert reading.awaiting == ("erin",)
    assert pairs(reading) == [("Q11", Stance.DELEGATE), ("Q20", Stance.CORRECT)]
    assert [(cue.question, cue.title) for cue in reading.followups] == [("Q11", "Add a regression test for the upload cap")]
    assert reading.answers[1].text == "the cap is 2 MiB, per dev@"


def test_accept_reject_and_help_carry_no_stance() -> None:
    reading = read("/accept\n/questions help", anchored="Q3")
    assert [command.name for command in reading.commands] == [CommandName.ACCEPT, CommandName.HELP]
    assert reading.stances == () and reading.binding


def test_commands_in_quotes_and_fences_are_not_commands() -> None:
    body = "> /confirm Q8\n\n```\n/strike Q8\n```\nNo, the port stays closed."
    reading = read(body, anchored="Q8")
    assert reading.heuristic and not reading.binding
    assert pairs(reading) == [("Q8", Stance.CORRECT)]


def test_unknown_question_ids_are_carried_back_not_accepted() -> None:
    reading = read("/confirm Q88\nQ8: yes", anchored=None)
    assert pairs(reading) == [("Q8", Stance.CONFIRM)]
    assert reading.unknown_questions == ("Q88",)
    assert any("Q88" in problem for problem in reading.problems)
    assert set(reading.to_json()) == {"question", "stances", "awaiting", "followups", "answers", "binding", "confidence"}


def test_a_command_without_a_question_outside_a_thread_is_flagged() -> None:
    reading = read("/confirm", anchored=None)
    assert pairs(reading) == [(None, Stance.CONFIRM)]
    assert any("which question" in problem for problem in reading.problems)


def test_the_single_question_named_becomes_the_readings_question() -> None:
    reading = read("/confirm q012", anchored=None)
    assert reading.question == "Q12"
    assert read("/confirm Q12\n/strike Q13", anchored=None).question is None
    assert read("/confirm Q12", anchored="Q3").question == "Q3"  # the thread wins


# ----------------------------------------------------------------- heuristic layer


@pytest.mark.parametrize(
    "body",
    [
        "**yes**",
        "Yes",
        "confirmed, the helper images are add-ons and never part of the core install.",
        "indeed",
        "Indeed — that is a documented misuse.",
        "correct",
        "That's correct; the storage layer handles it.",
        "Agreed, out of scope.",
        "agreed/confirmed.",
        "+1, nothing to add",
        "LGTM",
        "Sounds right to me.",
        "You're right, the operator owns that.",
        "No objections from me.",
    ],
)
def test_confirmations(body: str) -> None:
    reading = read(body)
    assert reading.stances == (Stance.CONFIRM,)
    assert reading.heuristic and not reading.binding
    assert 0 < reading.confidence < 1


@pytest.mark.parametrize(
    "body",
    [
        "Not correct: the console proxy has its own certificate.",
        "That isn't right, the scheduler runs on every node.",
        "No, the limit is per account.",
        "Nope.",
        "The default should be 0, 8096 only shows up in test setups.",
        "Please add the usage server to the list of components.",
        "Partially correct: only the HTTP port is affected.",
        "This is wrong for clustered installs.",
        "Remove the sentence about the legacy hash.",
    ],
)
def test_corrections(body: str) -> None:
    assert read(body).stances == (Stance.CORRECT,)


def test_a_bare_fact_in_a_question_thread_reads_as_an_answer_not_a_correction() -> None:
    reading = read("The flag defaults to on. Only installs upgraded from very old releases keep it off.")
    assert pairs(reading) == [("Q7", Stance.ANSWER)]
    assert reading.confidence <= 0.5
    assert "very old releases" in reading.answers[0].text


def test_not_intentional_answers_the_question_with_facts() -> None:
    reading = read("not intentional — nobody added constant-time checks, a hardening gap rather than a design choice.")
    assert reading.stances == (Stance.ANSWER,)


def test_a_bare_fact_with_no_question_in_sight_is_not_read_as_an_answer() -> None:
    reading = read("The flag defaults to on for new installs.", anchored=None)
    assert reading.answers == () and reading.confidence == 0.0


@pytest.mark.parametrize("body", ["Strike this one, the plugin was removed.", "Drop this question.", "Not applicable to us anymore."])
def test_strikes(body: str) -> None:
    assert read(body).stances == (Stance.STRIKE,)


def test_yes_for_one_part_no_for_the_other_is_a_correction_not_a_confirmation() -> None:
    reading = read("yes for the first half, no for the second")
    assert reading.stances == (Stance.CORRECT,)  # a half-right claim is not confirmed
    assert len(reading.answers) == 1 and "no for the second" in reading.answers[0].text
    assert reading.confidence <= 0.5  # mixed: a person should look


def test_delegation_awaits_the_person_asked() -> None:
    reading = read("@frank can you confirm where the boundary sits?")
    assert pairs(reading) == [("Q7", Stance.DELEGATE)]
    assert reading.awaiting == ("frank",)


def test_confirmation_plus_delegation() -> None:
    reading = read("Yes, as far as I know. @frank could you double-check the agent side?")
    assert reading.stances == (Stance.CONFIRM, Stance.DELEGATE)
    assert reading.awaiting == ("frank",)


def test_mentioning_yourself_is_not_delegation() -> None:
    reading = read("@maint can you confirm this? Yes, I can.", author="maint")
    assert reading.awaiting == ()
    assert Stance.DELEGATE not in reading.stances


def test_thanking_someone_by_name_is_not_delegation() -> None:
    assert read("Thanks @frank, agreed.").awaiting == ()


def test_a_question_back_to_the_author() -> None:
    reading = read("Which of the two listeners do you mean here?")
    assert reading.stances == (Stance.QUESTION,)


def test_is_that_right_asks_rather_than_confirms() -> None:
    assert read("Is that right for the agent too?").stances == (Stance.QUESTION,)


@pytest.mark.parametrize("body", ["I need to double-check this with the storage folks.", "Let me verify and come back.", "Not sure, IIRC it changed in 4.x."])
def test_tentative(body: str) -> None:
    assert read(body).stances == (Stance.TENTATIVE,)


def test_checking_whether_something_is_correct_is_not_a_confirmation() -> None:
    assert read("We need to double-check that the documented claims are still correct.").stances == (Stance.TENTATIVE,)


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ("Yes, and we should open a ticket to track the archive size limit.", "Track the archive size limit"),
        ("Confirmed. Make sure there is a test for the download link expiry.", "Add a test for the download link expiry"),
        ("We don't cap it today; we probably should add a size limit but not in this release.", "Add a size limit"),
        ("Yes, we should have a way to rotate the stored keys. I will create an issue to track this.", "Have a way to rotate the stored keys"),
        ("We might want to file proposals for a quorum mode in bigger clusters.", "Propose a quorum mode in bigger clusters"),
    ],
)
def test_followup_cues_propose_a_title(body: str, title: str) -> None:
    reading = read(body)
    assert [cue.title for cue in reading.followups] == [title]
    assert reading.followups[0].question == "Q7"


def test_no_inside_words_and_no_rush_are_not_negations() -> None:
    assert read("Nothing to add, now that I know the context: agreed.").stances == (Stance.CONFIRM,)
    assert read("No rush on this one.").answers == ()


def test_quoted_text_is_what_is_being_replied_to() -> None:
    reading = read("> This is not correct, is it?\n\nIt is correct.")
    assert reading.stances == (Stance.CONFIRM,)


def test_code_spans_are_not_prose_but_stay_in_the_excerpt() -> None:
    reading = read("Yes, `no` is the shipped value of `strict.mode`.")
    assert reading.stances == (Stance.CONFIRM,)
    assert "`strict.mode`" in reading.answers[0].text


def test_a_suggestion_block_is_an_amendment() -> None:
    reading = read("```suggestion\nThe agent listens on 8250 only.\n```")
    assert pairs(reading) == [("Q7", Stance.CORRECT)]
    assert reading.answers[0].text == "The agent listens on 8250 only."


def test_question_markers_tie_free_text_to_questions() -> None:
    body = (
        "Notes from the team call:\n\n"
        "- **Q15 (ownership):** files are root-owned, group cloud, 0640.\n"
        "- **Q29:** we both confirmed this one.\n"
        "- **Q99:** no idea what this one is.\n"
    )
    reading = read(body, anchored=None)
    assert reading.heuristic
    assert sorted(pairs(reading), key=str) == [("Q15", Stance.ANSWER), ("Q29", Stance.CONFIRM)]
    assert reading.unknown_questions == ("Q99",)


def test_next_to_bulk_lines_a_question_line_without_a_verdict_is_reported() -> None:
    reading = read("- **Q15 (ownership):** root-owned, mode 0640.\n- **Q29:** confirmed", anchored=None)
    assert pairs(reading) == [("Q29", Stance.CONFIRM)] and reading.binding
    assert any("Q15" in problem for problem in reading.problems)


def test_sentences_naming_a_question_are_about_it() -> None:
    reading = read("For Q9, yes. For Q10 the value is `false` by default.", anchored=None)
    assert pairs(reading) == [("Q9", Stance.CONFIRM), ("Q10", Stance.ANSWER)]


def test_empty_and_courtesy_replies_say_nothing() -> None:
    for body in ("", "   \n", "Thanks!", "Thank you, much appreciated."):
        reading = read(body)
        assert (reading.answers, reading.confidence, reading.binding) == ((), 0.0, False)


# ----------------------------------------------------------------- properties


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.booleans(), st.sampled_from([None, "Q7", "q07", "nonsense"]))
def test_reading_never_raises_and_is_well_formed(body: str, maintainer: bool, anchored: str | None) -> None:
    reading = read(body, anchored=anchored, maintainer=maintainer)
    assert all(isinstance(stance, Stance) for stance in reading.stances)
    assert set(reading.stances) == {answer.stance for answer in reading.answers}
    assert 0.0 <= reading.confidence <= 1.0
    assert reading.binding == (maintainer and not reading.heuristic)
    if reading.heuristic:
        assert reading.confidence < 1.0
    json.dumps(reading.to_json())


_SURROUNDING = st.lists(
    st.text(alphabet=st.characters(blacklist_characters="`~\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=60),
    max_size=4,
)


@settings(max_examples=200)
@given(_SURROUNDING, _SURROUNDING, st.integers(min_value=1, max_value=39), st.sampled_from(["Q", "q", "Q0"]))
def test_a_maintainers_confirm_line_always_binds(before: list[str], after: list[str], number: int, spelling: str) -> None:
    body = "\n".join([*before, f"/confirm {spelling}{number}", *after])
    reading = read(body, anchored=None)
    assert reading.binding
    assert (f"Q{number}", Stance.CONFIRM) in pairs(reading)


# ----------------------------------------------------------------- the real corpus (when present)


def _corpus_replies() -> list[tuple[str, dict]]:
    replies = []
    for path in sorted(CORPUS_THREADS.glob("*.json")):
        for comment in json.loads(path.read_text(encoding="utf-8")):
            if comment.get("kind") != "description":
                replies.append((path.name, comment))
    return replies


@pytest.mark.skipif(CORPUS_MISSING, reason="the shared corpus is not available (set CI to make this a failure)")
def test_every_corpus_reply_reads_without_error() -> None:
    assert CORPUS_THREADS.is_dir(), f"no corpus threads at {CORPUS_THREADS}"
    replies = _corpus_replies()
    assert replies
    for name, comment in replies:
        for anchored in (None, "Q3"):
            reading = read_reply(
                comment.get("body") or "",
                author=comment.get("author") or "",
                association="MEMBER",
                is_maintainer=True,
                anchored_question=anchored,
                known_questions=ANY_QUESTION,
            )
            assert all(isinstance(stance, Stance) for stance in reading.stances), name
            assert 0.0 <= reading.confidence <= 1.0, name
            assert set(reading.to_json()) == {"question", "stances", "awaiting", "followups", "answers", "binding", "confidence"}


@pytest.mark.parametrize(
    "body",
    [
        "Q1" + " " * 20_000 + "x",
        "/confirm x" + " " * 20_000 + "y",
        "<!--" * 20_000,
        "a" + " -" * 20_000,
        "no, " * 20_000,
    ],
    ids=["id-then-spaces", "command-then-spaces", "unclosed-comments", "dash-runs", "many-noes"],
)
def test_long_hostile_bodies_read_in_linear_time(body: str) -> None:
    import time

    started = time.monotonic()
    read(body)
    assert time.monotonic() - started < 5  # these took 30 s with backtracking regexes


def test_the_help_text_itself_never_reads_as_commands() -> None:
    reading = read(HELP_TEXT, anchored=None)
    assert reading.commands == () and not reading.binding
