"""The explicit layer: question ids, line kinds, slash commands and bulk answer lines."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.commands_parser import (
    ANY_QUESTION,
    LineKind,
    classify_lines,
    is_known,
    logins_in,
    normalise_question_id,
    parse_explicit,
    question_ids_in,
    read_verdict,
)
from bot.core.reader_output import CommandName, Stance

KNOWN = {"Q8", "Q9", "Q10", "Q12", "Q13", "Q14"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Q9", "Q9"), ("q9", "Q9"), ("Q09", "Q9"), ("Q9.", "Q9"), ("q014.r1", "Q14.R1"), ("Q", None), ("9", None), ("Q9xy", None),
         ("Q5a", "Q5a"), ("Q14.1", "Q14.1"), ("q-ClientTrust", "Q-ClientTrust"), ("question 5", "Q5"), ("Q" + "1" * 5000, None)],
)
def test_question_ids_normalise(raw: str, expected: str | None) -> None:
    assert normalise_question_id(raw) == expected


@given(st.integers(min_value=1, max_value=9_999), st.sampled_from(["Q", "q"]), st.sampled_from(["", "0", "00"]), st.sampled_from(["", "."]))
def test_normalising_any_spelling_gives_the_canonical_id(number: int, letter: str, padding: str, dot: str) -> None:
    canonical = normalise_question_id(f"{letter}{padding}{number}{dot}")
    assert canonical == f"Q{number}"
    assert normalise_question_id(canonical) == canonical


def test_ids_are_found_in_prose_but_not_inside_other_words() -> None:
    assert question_ids_in("see §14 Q11 and q5/Q10, not FAQ7 or Q3s") == ["Q11", "Q5", "Q10"]


def test_known_ids_compare_normalised_and_any_question_accepts_every_id() -> None:
    assert is_known("Q8", {"Q08"})
    assert not is_known("Q7", {"Q08"})
    assert "Q123" in ANY_QUESTION and "nonsense" not in ANY_QUESTION


def test_mentions_skip_email_addresses_and_teams() -> None:
    assert logins_in("ask @carol-x or mail dev@example.org, ping @apache/security") == ["carol-x"]


def test_lines_inside_fences_and_quotes_are_not_prose() -> None:
    body = "> quoted /confirm\nplain\n```suggestion\n/confirm Q8\n```\n~~~~\n```\n/strike\n~~~~\nafter"
    kinds = [(line.text, line.kind) for line in classify_lines(body)]
    assert kinds[0][1] is LineKind.QUOTE
    assert kinds[1] == ("plain", LineKind.PROSE)
    assert [kind for _, kind in kinds[2:9]] == [LineKind.CODE] * 7  # a ``` line does not close a ~~~~ fence
    assert kinds[9] == ("after", LineKind.PROSE)
    assert classify_lines(body)[3].fence_info == "suggestion"


def test_an_inline_triple_backtick_span_does_not_open_a_fence() -> None:
    lines = classify_lines("```code``` stays prose\n/confirm Q8")
    assert [line.kind for line in lines] == [LineKind.PROSE, LineKind.PROSE]


@pytest.mark.parametrize(
    ("line", "question", "stance", "text"),
    [
        ("Q8: confirm", "Q8", Stance.CONFIRM, "confirm"),
        ("Q9 - correct: zero is the shipped value", "Q9", Stance.CORRECT, "zero is the shipped value"),
        ("Q10 strike", "Q10", Stance.STRIKE, "strike"),
        ("Q12 - yes", "Q12", Stance.CONFIRM, "yes"),
        ("- Q13: agreed", "Q13", Stance.CONFIRM, "agreed"),
        ("**Q14**: confirmed", "Q14", Stance.CONFIRM, "confirmed"),
        ("* **Q09.** — yes, same tier", "Q9", Stance.CONFIRM, "yes, same tier"),
        ("1. **Q8 (port):** no, it listens on loopback only", "Q8", Stance.CORRECT, "it listens on loopback only"),
        ("Q8: correct", "Q8", Stance.CONFIRM, "correct"),  # alone, "correct" means "that's correct"
    ],
)
def test_bulk_lines(line: str, question: str, stance: Stance, text: str) -> None:
    parsed = parse_explicit(classify_lines(line), KNOWN, "maint")
    assert parsed.found
    assert [(a.question, a.stance, a.text) for a in parsed.bulk_answers] == [(question, stance, text)]


@pytest.mark.parametrize("line", ["Q8 is about the agent port", "Q9: nobody knows", "Questions about Q8", "Q8"])
def test_a_question_line_without_a_verdict_is_prose(line: str) -> None:
    assert not parse_explicit(classify_lines(line), KNOWN, "maint").found


def test_verdicts_do_not_fire_inside_words() -> None:
    assert read_verdict("nothing changed here") is None
    assert read_verdict("yesterday we shipped it") is None
    assert read_verdict("strike-through is only formatting") is None


def test_a_correction_left_for_the_next_lines_takes_the_paragraph() -> None:
    body = "Q9 - correct:\nthe port is closed\nunless a test profile opens it\n\nunrelated"
    (answer,) = parse_explicit(classify_lines(body), KNOWN, "maint").bulk_answers
    assert answer.text == "the port is closed unless a test profile opens it"


def test_commands_are_read_with_their_arguments() -> None:
    body = "\n".join(
        [
            "/confirm Q8 Q9",
            "/strike",
            "/correct q10 the listener binds to loopback",
            "/ask @erin @maint Q12",
            "/followup Q13 Re-test the token expiry",
            "/accept",
            "/reject Q8-promote-1",
            "/answer Q14 strike dropped after the dev@ vote",
            "/questions help",
            "/assign @someone",
        ]
    )
    parsed = parse_explicit(classify_lines(body), KNOWN, "maint")
    summary = [(c.name, c.question, c.login, c.stance, c.text, c.line) for c in parsed.commands]
    assert summary == [
        (CommandName.CONFIRM, "Q8", None, None, "", 1),
        (CommandName.CONFIRM, "Q9", None, None, "", 1),
        (CommandName.STRIKE, None, None, None, "", 2),
        (CommandName.CORRECT, "Q10", None, None, "the listener binds to loopback", 3),
        (CommandName.ASK, "Q12", "erin", None, "", 4),  # asking yourself is not a delegation
        (CommandName.FOLLOWUP, "Q13", None, None, "Re-test the token expiry", 5),
        (CommandName.ACCEPT, None, None, None, "", 6),
        (CommandName.REJECT, None, None, None, "Q8-promote-1", 7),
        (CommandName.ANSWER, "Q14", None, Stance.STRIKE, "dropped after the dev@ vote", 8),
        (CommandName.HELP, None, None, None, "", 9),
    ]
    assert parsed.problems == ()


def test_unknown_ids_are_reported_not_accepted() -> None:
    parsed = parse_explicit(classify_lines("/confirm Q99\nQ77: yes\n/correct Q8 fine"), KNOWN, "maint")
    assert parsed.found
    assert [c.question for c in parsed.commands] == ["Q8"]
    assert parsed.bulk_answers == ()
    assert parsed.unknown_questions == ("Q99", "Q77")
    assert len(parsed.problems) == 2


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("/correct Q8", "corrected text"),
        ("/ask Q8", "someone else"),
        ("/followup Q8", "title"),
        ("/answer Q8 maybe later", "verdict"),
        ("/answer confirm", "verdict"),
        ("/questions list", "unknown"),
    ],
)
def test_malformed_commands_explain_themselves(line: str, hint: str) -> None:
    parsed = parse_explicit(classify_lines(line), KNOWN, "maint")
    assert parsed.found
    assert any(hint in problem for problem in parsed.problems)


def test_commands_must_start_their_line_and_be_ours() -> None:
    body = "please run /confirm Q8 later\n    /confirm Q8\n/confirmed Q8\n/path/to/file"
    assert not parse_explicit(classify_lines(body), KNOWN, "maint").found


def test_no_is_a_verdict_only_as_an_answer_word() -> None:
    assert read_verdict("no, loopback only") == (Stance.CORRECT, "loopback only")
    assert read_verdict("No.") == (Stance.CORRECT, "")
    assert read_verdict("no — it is per account") == (Stance.CORRECT, "it is per account")
    assert read_verdict("no idea what this is") is None


def test_an_email_reply_attribution_belongs_to_the_quote() -> None:
    lines = classify_lines("yes\n\nOn Tue, 2 Jun 2026 at 09:00, Review Bot <bot@example.org> wrote:\n> Q8 asks ...")
    assert [line.kind for line in lines] == [LineKind.PROSE, LineKind.PROSE, LineKind.QUOTE, LineKind.QUOTE]
