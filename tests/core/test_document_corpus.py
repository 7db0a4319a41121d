"""The parser over every real threat model in the shared corpus.

The corpus sits next to the repository (`../shared`, see tests/corpus.py); without it this module
is skipped, and with `CI` set a missing corpus fails the run.
"""
from __future__ import annotations

import pytest

from bot.core.document import parse_document
from bot.core.model import QuestionState
from corpus import THREAT_MODELS, expected_counts, require_corpus

require_corpus()
CORPUS = THREAT_MODELS
DOCUMENTS = sorted(CORPUS.glob("*.md"))
WITHOUT_OPEN_QUESTIONS = {"opendal-reqsign--THREAT_MODEL.md"}  # rewritten by its maintainers, no §14
CLOUDSTACK = CORPUS / "cloudstack--draft-THREAT-MODEL@0a0e38aa.md"


@pytest.fixture(scope="module")
def parsed():
    return {path.name: parse_document(path.read_text(encoding="utf-8"), str(path)) for path in DOCUMENTS}


def test_corpus_is_there():
    assert len(DOCUMENTS) >= 22
    assert {path.name for path in DOCUMENTS} == set(expected_counts())


@pytest.mark.parametrize("name", sorted(expected_counts()) if CORPUS.is_dir() else [])
def test_document_reads_as_counted_by_hand(name, parsed):
    """Ids in document order, and how many are answered and open, as the hand counts say.

    ws-neethi--THREAT-MODEL.md: its Q11 carries no answer marker; the maintainer rewrote it into
    its "verified answer is …" (line 815), which the dialect reads as answered, as the count does.
    """
    expected = expected_counts()[name]
    document = parsed[name]
    assert [question.id for question in document.questions] == expected["ids"]
    answered = sum(1 for question in document.questions if question.state is not QuestionState.OPEN)
    assert (answered, len(document.questions) - answered) == (expected["answered"], expected["open"])


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_document_parses_with_sane_shape(path, parsed):
    document = parsed[path.name]
    line_count = len(path.read_text(encoding="utf-8").split("\n"))
    assert document.title
    if path.name in WITHOUT_OPEN_QUESTIONS:
        assert not document.has_open_questions_section
        assert document.questions == ()
    else:
        assert document.has_open_questions_section
        assert document.questions, "a §14 exists, so questions must be found"
        section_14 = next(s for s in document.sections if s.label == "§14")
        for question in document.questions:
            assert section_14.span.start_line < question.span.start_line <= question.span.end_line
            assert question.span.end_line <= section_14.span.end_line
            assert question.text
    for section in document.sections:
        assert 1 <= section.span.start_line <= section.span.end_line <= line_count
    lines = path.read_text(encoding="utf-8").split("\n")
    for tag in document.tags:
        end_line = tag.end_line or tag.line
        assert lines[tag.line - 1][tag.col_start :].startswith(tag.raw.split("\n")[0])
        assert lines[end_line - 1][: tag.col_end].endswith(tag.raw.split("\n")[-1])
    assert sum(document.tally.counted.values()) == len(document.tags)
    for issue in document.issues:
        assert 1 <= issue.line <= line_count


def test_cloudstack_questions_checked_by_hand(parsed):
    document = parsed[CLOUDSTACK.name]
    assert len(document.questions) == 38
    assert sorted(question.id for question in document.questions) == sorted(f"Q{n}" for n in range(1, 39))
    assert document.question("Q37").state is QuestionState.OPEN
    assert all(q.state is QuestionState.RESOLVED for q in document.questions if q.id != "Q37")
    # Q12 sits in wave 2 although it is numbered after Q11: ids are kept as written, in document order.
    assert [q.id for q in document.questions[:9]] == ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q12", "Q8"]
    assert document.question("Q12").wave == "Wave 2 — the two big insecure defaults"
    assert document.question("Q12").answered_by == ("vishesh92", "DaanHoogland")
    assert document.question("Q8").proposed_answer == "yes, `OUT-OF-MODEL: equivalent-harm`"
    assert document.question("Q8").maps_to == ("§3 item 4", "§9")
    assert document.question("Q27").maps_to == ("§8 P9", "§9")
    assert document.question("Q7").answer == "yes, out of scope; report upstream"
    assert document.question("Q37").maps_to == ("§11a",)
    assert document.question("Q1").span.start_line == 894


def test_cloudstack_tags_checked_by_hand(parsed):
    document = parsed[CLOUDSTACK.name]
    # grep counts of `*(documented` / `*(inferred` / `*(... maintainer` less the legend (§1) and
    # the tally line and the §14 intro's "Every *(inferred)* tag" mention.
    assert document.tally.counted == {"documented": 64, "inferred": 39, "maintainer": 88}
    assert document.tally.stated == {"documented": 51, "maintainer": 42, "inferred": 38}
    assert document.tally.stated_line == 66
    assert document.issues == ()
    labels = [section.label for section in document.sections if section.label]
    assert labels[:16] == [
        "§1", "§2", "§3", "§4", "§5", "§5a", "§6", "§7", "§8", "§9", "§10", "§11", "§11a", "§12", "§13", "§14",
    ]
    assert labels[-1] == "Appendix: SECURITY.md → §x back-map"
    wrapped = next(tag for tag in document.tags if tag.line == 943)  # Q12's RESOLVED tag wraps
    assert wrapped.end_line == 944 and wrapped.maintainers == ("vishesh92", "DaanHoogland")


def test_numbered_sections_without_section_sign(parsed):
    document = parsed["opendal-reqsign--THREAT_MODEL.md"]
    labels = [section.label for section in document.sections]
    assert labels[:3] == ["§1", "§2", "§3"] and "§3.1" in labels and "§5.7" in labels
