"""Every dialect the document reader understands, pinned on small fixtures in our own words.

Each fixture in tests/fixtures/documents/dialects/ shows one family of shapes real Apache threat
models use; adding a dialect means a change in bot/core/dialect.py and a fixture here.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.document import parse_document
from bot.core.model import Document, QuestionState

DIALECTS = Path(__file__).resolve().parents[1] / "fixtures" / "documents" / "dialects"
OPEN, ANSWERED, RESOLVED = QuestionState.OPEN, QuestionState.ANSWERED, QuestionState.RESOLVED


def read(name: str) -> Document:
    return parse_document((DIALECTS / name).read_text(encoding="utf-8"), name)


def states(document: Document) -> dict[str, QuestionState]:
    return {question.id: question.state for question in document.questions}


# fixture -> ids in document order and the state of each
EXPECTED = {
    "arrow-answers.md": {"Q1": ANSWERED, "Q2": ANSWERED, "Q3": OPEN},
    "named-ids.md": {"Q-callertrust": ANSWERED, "Q-tls": ANSWERED, "Q-authn": ANSWERED, "Q-cachekeys": OPEN, "Q-tenants": OPEN},
    "dotted-ids.md": {"Q14.1": OPEN, "Q14.2": OPEN, "Q14.R1": OPEN},
    "numbered-items.md": {
        "1": ANSWERED, "2": ANSWERED, "7": OPEN, "8": OPEN, "8a": OPEN, "9": OPEN, "10": OPEN, "11": ANSWERED,
    },
    "parenthesised-ids.md": {"Q1": OPEN, "Q10": OPEN, "Q11": OPEN, "Q18a": OPEN, "meta": OPEN},
    "domain-tags.md": {"1": OPEN, "2": OPEN, "3": OPEN},
    "topic-groups.md": {
        "Q1": ANSWERED, "Q6": OPEN, "Q7": OPEN, "Q8": OPEN, "Q9": OPEN, "Q10": OPEN, "Q11": OPEN,
        "Q5": ANSWERED, "Q5a": OPEN, "Q15": OPEN, "Q16": OPEN,
    },
    "resolved-heading.md": {"1": RESOLVED, "2": RESOLVED},
    "decisions-heading.md": {"Q1": ANSWERED, "Q2": ANSWERED, "Q7": ANSWERED, "meta": ANSWERED},
    "inline-markers.md": {
        "1": ANSWERED, "2": OPEN, "3": OPEN, "4": ANSWERED, "5": ANSWERED, "6": ANSWERED, "7": RESOLVED, "8": OPEN,
    },
    "paragraph-answers.md": {"Q1": ANSWERED, "Q2": ANSWERED, "Q3": ANSWERED, "Q4": ANSWERED, "Q5": ANSWERED},
    "extents.md": {"Q1": OPEN, "Q2": ANSWERED, "Q3": OPEN},
    "question-table.md": {"Q1": OPEN, "Q2": ANSWERED, "Q3": ANSWERED, "Q4": OPEN},
    "ids-between-refs.md": {
        "Q1": OPEN, "Q4": OPEN, "Q5": OPEN, "Q2": OPEN, "Q6": OPEN, "Q7": OPEN, "Q8": OPEN, "Q11": OPEN, "Q3": OPEN,
    },
    "unmarked-replies.md": {"Q1": OPEN, "Q2": OPEN, "Q3": OPEN, "Q4": OPEN, "Q5": ANSWERED},
    "settled-intro.md": {"Q1": ANSWERED, "Q2": ANSWERED, "Q3": ANSWERED},
    "settled-intro-except.md": {"Q1": ANSWERED, "Q2": OPEN},
    "status-stamps.md": {"Q1": ANSWERED, "Q2": RESOLVED, "Q3": OPEN, "Q4": OPEN},
    "stamped-items.md": {"1": RESOLVED, "2": ANSWERED, "3": OPEN},
    "headings-and-replies.md": {
        "Q1": ANSWERED, "Q2": OPEN, "Q3": ANSWERED, "Q4": ANSWERED, "Q5": OPEN, "Q6": ANSWERED, "Q7": ANSWERED,
    },
}


def test_every_fixture_is_pinned() -> None:
    assert {path.name for path in DIALECTS.glob("*.md")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ids_in_order_and_states(name: str) -> None:
    document = read(name)
    assert list(states(document)) == list(EXPECTED[name])
    assert states(document) == EXPECTED[name]
    assert all(question.text for question in document.questions)


def test_answers_name_who_gave_them() -> None:
    assert read("arrow-answers.md").question("Q1").answered_by == ("quillon",)
    assert read("arrow-answers.md").question("Q1").answer.startswith("Confirmed. Only inside the cluster network")
    assert read("numbered-items.md").question("2").answered_by == ("wrenfield",)  # from its wave heading
    assert read("resolved-heading.md").question("1").answered_by == ("marsh",)
    markers = read("inline-markers.md")
    assert markers.question("1").answered_by == ("sandpiper",)
    assert markers.question("4").answered_by == ("sandpiper",)
    assert markers.question("6").answer == "Yes, and that is documented."
    assert read("paragraph-answers.md").question("Q4").answer == "No; the operator encrypts the volume."


def test_questions_with_headings_of_their_own_and_reply_words() -> None:
    document = read("headings-and-replies.md")
    first = document.question("Q1")
    assert first.text == "Is the crawler's robots handling a security control? We assume it is a courtesy, not a control."
    assert (first.span.start_line, first.span.end_line) == (7, 13)  # its `##### Reply` included
    assert first.answered_by == ("dunlin-pmc",) and first.answer == "Correct, it is a courtesy."
    assert document.question("Q6").answer.startswith("yes, with a magic number.")
    assert document.question("Q4").wave == "Wave 2 — checklist"


def test_a_table_of_questions() -> None:
    document = read("question-table.md")
    assert document.question("Q2").answer == "No; only the owning client."
    assert document.question("Q1").text == "Is the broker port meant to face the internet?"
    assert (document.question("Q3").span.start_line, document.question("Q3").span.end_line) == (9, 9)


def test_waves_and_groups() -> None:
    arrow = read("arrow-answers.md")
    # A bold wave heading that wraps onto a second line is one heading.
    assert arrow.question("Q1").wave == "Wave 1 — trust and transport, the questions that reshape the model — ANSWERED"
    assert arrow.question("Q3").wave == "Wave 2 — limits"
    assert read("dotted-ids.md").question("Q14.R1").wave == "Edge probes of documented claims"
    assert read("numbered-items.md").question("10").wave == "Meta"
    assert read("topic-groups.md").question("Q9").wave == "Parser robustness"


def test_each_id_of_a_dot_separated_entry_keeps_its_own_words() -> None:
    document = read("topic-groups.md")
    assert [document.question(qid).text for qid in ("Q6", "Q7", "Q8")] == ["`net/ip`", "`net/coap`", "`fs/*` metadata"]
    assert document.question("Q6").span == document.question("Q8").span  # one entry, one extent


def test_a_question_extent_is_structural() -> None:
    document = read("extents.md")
    first, second, third = document.questions
    # A bold sub-heading, a code block (with a look-alike id and a rule in it) and a table stay in Q1.
    assert (first.span.start_line, first.span.end_line) == (7, 18)
    assert "Proposed: zip and tar" in first.text and first.proposed_answer == "zip and tar."
    # An indented `---` inside the list item's answer does not end Q2; the top-level one does.
    assert (second.span.start_line, second.span.end_line) == (20, 26)
    assert second.answer.startswith("No: symlinks are skipped.")
    # The next wave's introduction is not swallowed by Q2, nor taken for a question.
    assert (third.span.start_line, third.span.end_line) == (34, 34) and third.wave == "Wave 2 — transport"
    assert "introduction" not in second.text + (second.answer or "")


def test_look_alikes_are_not_questions() -> None:
    # Cross-references are not questions; `**(Storage)**` is a domain tag.
    # `**Q1.**` inside Q2's answer, and `**Q3.**` wrapped to the start of a line in Q5's.
    assert [question.id for question in read("paragraph-answers.md").questions] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert read("paragraph-answers.md").issues == ()
    assert [question.id for question in read("domain-tags.md").questions] == ["1", "2", "3"]


def test_a_section_without_accepted_ids_says_so() -> None:
    document = parse_document("# M\n\n## §14 Open questions\n\n**Question A.** Is it safe?\n\nIs it fast?\n", "m.md")
    assert document.questions == ()
    messages = [(issue.line, issue.message) for issue in document.issues]
    assert (5, "looks like a §14 question but has no id it accepts") in messages
    assert any("no question id this reader accepts" in message for _, message in messages)


def test_a_bare_reply_after_the_question_mark_stays_open_and_is_reported() -> None:
    document = read("unmarked-replies.md")
    flagged = [issue.line for issue in document.issues if "reply with no answer marker" in issue.message]
    assert flagged == [9, 11]  # `? Yes.` and `? Preferably no.`; a free-text reply is not guessed at


def test_an_entry_that_keeps_only_its_resolution_is_imported_with_it_as_text() -> None:
    document = parse_document(
        "# M\n\n## §14 Open questions\n\n- **Q-cli / Q-ui.** *(Answered — wren: both stay out of scope.)*\n"
        "- **Q-doc.** Where should the model live?\n",
        "m.md",
    )
    by_id = {question.id: question for question in document.questions}
    assert by_id["Q-cli"].state is ANSWERED and by_id["Q-ui"].state is ANSWERED
    assert "both stay out of scope" in by_id["Q-cli"].text
    assert [(issue.line, issue.message) for issue in document.issues] == [
        (5, "question has an id but no text; its answer stands in for it")
    ]


def test_prose_that_reads_like_a_named_id_is_no_back_link() -> None:
    text = (
        "# M\n\n## §3 Scope\n\nThe set of checks is fixed *(documented — the exact set is Q-confirmed in §14)*.\n\n"
        "## §14 Open questions\n\n- **Q-scope.** Is the set of checks fixed?\n"
    )
    document = parse_document(text, "m.md")
    assert [tag.questions for tag in document.tags] == [()]
    assert document.issues == ()
