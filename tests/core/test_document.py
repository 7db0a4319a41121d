"""The document parser on fixture documents written in our own words (counts checked by hand)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.document import normalise_question_id, parse_document, parse_tag_text, question_key
from bot.core.model import QuestionState, TagKind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"


def load(name: str):
    path = FIXTURES / name
    return parse_document(path.read_text(encoding="utf-8"), str(path))


# --- cloudstack-shaped: waves, RESOLVED strike-throughs, wrapped tags, Draft stats --------------
@pytest.fixture(scope="module")
def cloudstack():
    return load("cloudstack-shaped.md")


def test_cloudstack_shaped_sections(cloudstack):
    labels = [section.label for section in cloudstack.sections if section.label]
    assert labels == [
        "§1", "§2", "§3", "§4", "§5", "§5a", "§6", "§7", "§8", "§9", "§10", "§11", "§11a", "§12", "§13", "§14",
        "Appendix: SECURITY.md → §x back-map",
    ]
    assert cloudstack.title == "Apache Skyfold Security Threat Model (draft)"
    section_14 = cloudstack.section("§14")
    assert section_14.title == "Open questions for the maintainers"
    assert (section_14.span.start_line, section_14.span.end_line) == (122, 172)
    assert cloudstack.section("§5a").span.start_line == 63
    assert cloudstack.has_open_questions_section


def test_cloudstack_shaped_tally_counts_claims_not_the_legend(cloudstack):
    assert cloudstack.tally.counted == {"documented": 7, "inferred": 8, "maintainer": 11}
    assert cloudstack.tally.stated == {"documented": 7, "maintainer": 9, "inferred": 8}
    assert cloudstack.tally.stated_line == 22
    # The stated figures count claims: the 5 maintainer tags in §14's RESOLVED notes record
    # answers, so 6 maintainer claims stand against the 9 stated.
    assert cloudstack.tally.claims == {"documented": 7, "inferred": 8, "maintainer": 6}
    assert cloudstack.tally.disagreements == ("maintainer: stated 9, counted 6",)
    assert cloudstack.issues == ()


def test_cloudstack_shaped_tag_details(cloudstack):
    by_line = {tag.line: tag for tag in cloudstack.tags}
    readme = by_line[27]
    assert (readme.kind, readme.source, readme.section, readme.col_start, readme.col_end) == (
        TagKind.DOCUMENTED, "README", "§1", 6, 29,
    )
    assert readme.raw == "*(documented — README)*"
    assert by_line[34].source == "docs/install.md"
    assert by_line[49].maintainers == ("rivera-k", "tpatel") and by_line[49].questions == ("Q1",)
    assert by_line[67].date == "2026-03-02" and by_line[67].questions == ("Q2",)
    assert by_line[72].questions == ("Q7", "Q8")
    assert by_line[93].questions == ("Q10",)  # `— see §14 Q10`
    assert by_line[89].kind is TagKind.MAINTAINER and by_line[89].maintainers == ("tpatel",)
    assert by_line[102].maintainers == ()  # `*(maintainer — yes)*` names nobody
    assert by_line[55].questions == () and by_line[55].kind is TagKind.INFERRED
    assert by_line[107].section == "§11a"


def test_cloudstack_shaped_wrapped_tag_keeps_start_line_and_records_end_line(cloudstack):
    wrapped = next(tag for tag in cloudstack.tags if tag.line == 60)
    assert wrapped.end_line == 61
    assert (wrapped.col_start, wrapped.col_end) == (46, 19)
    assert wrapped.maintainers == ("tpatel", "rivera-k")
    assert wrapped.questions == ("Q4",)
    assert "\n" in wrapped.raw
    source_lines = (FIXTURES / "cloudstack-shaped.md").read_text(encoding="utf-8").split("\n")
    assert source_lines[59][wrapped.col_start :].startswith("*(maintainer: tpatel,")
    assert source_lines[60][: wrapped.col_end].endswith("§14 Q4)*")


def test_cloudstack_shaped_questions(cloudstack):
    questions = cloudstack.questions
    assert [question.id for question in questions] == [f"Q{n}" for n in range(1, 13)]
    resolved = {question.id for question in questions if question.state is QuestionState.RESOLVED}
    assert resolved == {"Q1", "Q2", "Q4", "Q7", "Q9"}
    assert {question.state for question in questions} == {QuestionState.OPEN, QuestionState.RESOLVED}
    assert [cloudstack.question(f"Q{n}").wave for n in (1, 4, 12)] == [
        "Wave 1 — scope and the container boundary",
        "Wave 2 — defaults and environment",
        "Wave 3 — adversaries and meta",
    ]


def test_cloudstack_shaped_resolved_question_details(cloudstack):
    q1 = cloudstack.question("Q1")
    assert (q1.span.start_line, q1.span.end_line) == (129, 131)
    assert q1.text == "Are container-runtime bugs reported upstream rather than to Skyfold?"
    assert q1.answered_by == ("rivera-k",)
    assert q1.answer == "yes, upstream; we only track the minimum runtime version."
    assert q1.maps_to == ("§3 item 2",)
    assert cloudstack.question("Q2").answered_by == ("tpatel", "rivera-k")
    q4 = cloudstack.question("Q4")  # no strike-through: `**RESOLVED**` after the question
    assert q4.state is QuestionState.RESOLVED and q4.answered_by == ("tpatel",)
    q7 = cloudstack.question("Q7")  # the maintainer tag wraps and carries "yes"
    assert q7.answered_by == ("rivera-k", "tpatel")
    assert q7.answer == "yes — bounded at depth 8 since 3.1."
    q9 = cloudstack.question("Q9")
    assert q9.answered_by == () and q9.maps_to == ("§7", "§9")


def test_cloudstack_shaped_open_question_details(cloudstack):
    q3 = cloudstack.question("Q3")
    assert q3.state is QuestionState.OPEN
    assert q3.proposed_answer == "yes, `OUT-OF-MODEL: adversary-not-in-scope`"
    assert q3.maps_to == ("§3 item 1", "§7")  # the marker wraps across a line break
    assert q3.text.endswith("`OUT-OF-MODEL: adversary-not-in-scope`)?")
    assert cloudstack.question("Q5").proposed_answer == "the HTTP layer cap is the only bound."
    assert cloudstack.question("Q10").proposed_answer is None  # bare `(proposed)`
    assert cloudstack.question("Q11").maps_to == ("§11a",)  # `*(meta — §11a)*`
    assert cloudstack.question("Q12").maps_to == ()
    assert cloudstack.question("Q6").answer is None and cloudstack.question("Q6").answered_by == ()


# --- numbered-list §14 with quoted and [ANSWERED] replies -------------------------------------
@pytest.fixture(scope="module")
def numbered():
    return load("numbered-list-shaped.md")


def test_numbered_list_questions_and_replies(numbered):
    assert [question.id for question in numbered.questions] == ["1", "2", "3", "4", "5"]
    states = [question.state for question in numbered.questions]
    assert states == [QuestionState.ANSWERED] * 3 + [QuestionState.OPEN] * 2
    first, second, third, fourth, fifth = numbered.questions
    assert first.wave == "Wave 1 — scope (reshapes §3, §11a)"
    assert fourth.wave == "Wave 2 — storage and limits (reshapes §5, §6)"
    assert first.maps_to == ("§3", "§11a")
    assert first.text == "We treat the sample configurations as **out of model**. Is that right?"
    assert first.answer == "Yes. Samples are for local trials only and say so in their header."
    assert (first.span.start_line, first.span.end_line) == (56, 59)
    assert second.answer == "The console binds to localhost by default. Exposing it is an operator decision."
    assert third.answered_by == ("okafor-j",)
    assert third.text == "Is the spool directory private to the relay user?"
    assert third.answer == "**Yes** — the installer sets mode 0700."
    assert third.maps_to == ()
    assert fourth.proposed_answer == "yes"
    assert fifth.maps_to == ("§5a", "§10") and fifth.span == type(fifth.span)(73, 73)


def test_numbered_list_tags_confirmed_alias_and_mentions(numbered):
    assert numbered.tally.counted == {"documented": 4, "inferred": 3, "maintainer": 1}
    assert numbered.tally.stated == {"documented": 5, "maintainer": 0, "inferred": 4}
    assert numbered.tally.disagreements == (
        "documented: stated ~5, counted 4",
        "maintainer: stated 0, counted 1",
        "inferred: stated 4, counted 3",
    )
    confirmed = next(tag for tag in numbered.tags if tag.line == 27)
    assert confirmed.kind is TagKind.MAINTAINER and confirmed.questions == ("Q1",)
    assert next(tag for tag in numbered.tags if tag.line == 21).source == "SECURITY.md"
    assert next(tag for tag in numbered.tags if tag.line == 22).source == "user guide"
    assert next(tag for tag in numbered.tags if tag.line == 39).section == "§5a"
    # tags link §14 Q1..Q3 while the list numbers them 1..3
    assert {question_key(q.id) for q in numbered.questions} >= {"Q1", "Q2", "Q3"}
    assert numbered.issues == ()


# --- plain-numbered sections, a summary table, a PMC-resolved §14, and shapes we report -------
@pytest.fixture(scope="module")
def summary():
    return load("summary-table-shaped.md")


def test_summary_table_sections_are_normalised(summary):
    labels = [section.label for section in summary.sections]
    assert labels == ["§1", "", "§2", "§3", "§3.1", "§4", "§5", "§14", "Appendix A: Back-map"]
    assert summary.section("§14").title == "Open questions — RESOLVED by the PMC (2026-05-30)"


def test_summary_table_is_the_stated_tally(summary):
    assert summary.tally.stated == {"documented": 4, "maintainer": 3, "inferred": 2}
    assert summary.tally.stated_line == 15
    assert summary.tally.counted == {"documented": 2, "inferred": 2, "maintainer": 3}
    assert summary.tally.disagreements == ("documented: stated 4, counted 2",)


def test_nested_tag_is_two_tags(summary):
    on_36 = [tag for tag in summary.tags if tag.line == 36]
    assert [(tag.kind, tag.col_start) for tag in on_36] == [(TagKind.DOCUMENTED, 0), (TagKind.INFERRED, 33)]
    outer, inner = on_36
    assert outer.end_line == 37 and outer.source == "docs/plugins.md" and outer.questions == ()
    assert inner.questions == ("Q3",)


def test_section_resolved_by_pmc(summary):
    assert [question.id for question in summary.questions] == ["1", "2", "3", "4"]
    assert all(question.state is QuestionState.RESOLVED for question in summary.questions)
    assert all(question.answered_by == ("lindqvist",) for question in summary.questions)
    assert summary.questions[3].maps_to == ("§5",)
    assert summary.questions[1].maps_to == ("§3", "§11a")
    dated = next(tag for tag in summary.tags if tag.line == 23)
    assert dated.date == "2026-05-30" and dated.questions == ("Q1",)


def test_unknown_shapes_are_reported_with_their_line(summary):
    reported = [(issue.line, issue.message) for issue in summary.issues]
    assert reported == [
        (31, "tag-like note reads like provenance but names no known kind"),
        (39, "tag links §14 Q9, which §14 does not contain"),
        (44, "provenance tag is opened but not closed within its paragraph"),
        (59, "§14 paragraph reads like a question but has no question id"),
    ]


# --- small shapes -------------------------------------------------------------------------------
def test_document_without_open_questions():
    document = parse_document("# T\n\n## 1. Status\n\nDone.\n\n## 2. Decisions\n\nNone *(documented — README)*.\n")
    assert not document.has_open_questions_section
    assert document.questions == ()
    assert [section.label for section in document.sections] == ["§1", "§2"]
    assert document.tally.counted["documented"] == 1


def test_creadur_style_titles_and_shared_ids():
    text = (
        "## §14 Open questions for the maintainers\n\n"
        "- **Q1 — network use (answered, alice-b + carol).** Confirmed: no sockets.\n"
        "- **Q2 / Q3 — sibling repos (answered, PMC).** Deferred.\n"
        "- **Q4.** *(Partially answered — PMC: a fix is in flight.)* Is input X bounded? (§6/§9.)\n"
    )
    document = parse_document(text)
    ids = [question.id for question in document.questions]
    assert ids == ["Q1", "Q2", "Q3", "Q4"]
    q1, q2, q3, q4 = document.questions
    assert (q1.state, q1.text, q1.answered_by, q1.answer) == (
        QuestionState.ANSWERED, "network use", ("alice-b", "carol"), "Confirmed: no sockets.",
    )
    assert q2.span == q3.span and q2.answered_by == ()
    assert (q4.state, q4.text, q4.answer, q4.maps_to) == (
        QuestionState.OPEN, "Is input X bounded?", "a fix is in flight.", ("§6", "§9"),
    )


def test_answer_paragraph_after_question():
    text = (
        "## §14 Open questions\n\n### Wave 1 — only\n\n"
        "**Q1.** Is it so? *(maps to §2)*\n\n*(maintainer: dana)* Yes, it is.\n\n"
        "**Q2.** Is that so?\n  - (**maintainer**) Confirmed.\n\n"
        "**Q3.** ~~Withdrawn question?~~\n"
    )
    document = parse_document(text)
    q1, q2, q3 = document.questions
    assert (q1.state, q1.answer, q1.answered_by, q1.maps_to) == (QuestionState.ANSWERED, "Yes, it is.", ("dana",), ("§2",))
    assert (q2.state, q2.answer, q2.text) == (QuestionState.ANSWERED, "Confirmed.", "Is that so?")
    assert q3.state is QuestionState.RESOLVED and q3.text == "Withdrawn question?"
    assert [issue.line for issue in document.issues] == [12]  # struck without a RESOLVED note


def test_code_fences_hide_headings_and_tags():
    text = "## §2 Scope\n\n```\n# not a heading *(inferred)*\n```\n\nReal *(inferred — Q1)*.\n"
    document = parse_document(text)
    assert [section.label for section in document.sections] == ["§2"]
    assert [tag.line for tag in document.tags] == [7]


def test_a_code_fence_inside_a_question_does_not_cut_its_span_short():
    text = (
        "## §14 Open questions\n\n"
        "**Q1.** Does the loader accept this?\n\n```\nkey: value\nother: 2\n```\n\nIt is the shipped sample.\n\n"
        "**Q2.** Is the sample kept? <!-- ask Dana -->\n"
    )
    q1, q2 = parse_document(text).questions
    assert (q1.span.start_line, q1.span.end_line) == (3, 10)  # through "It is the shipped sample."
    assert (q2.span.start_line, q2.span.end_line) == (12, 12)


@pytest.mark.parametrize(
    ("raw", "kind", "details"),
    [
        ("*(documented — README)*", TagKind.DOCUMENTED, {"source": "README"}),
        ("*(documented: `RootCAProvider.java`)*", TagKind.DOCUMENTED, {"source": "RootCAProvider.java"}),
        ("*(inferred — §14 Q11)*", TagKind.INFERRED, {"questions": ("Q11",)}),
        ("*(inferred — see §14 Q4)*", TagKind.INFERRED, {"questions": ("Q4",)}),
        ("*(inferred — Q3)*", TagKind.INFERRED, {"questions": ("Q3",)}),
        ("*(inferred — Q5/Q10)*", TagKind.INFERRED, {"questions": ("Q5", "Q10")}),
        ("*(inferred — Q14.R5)*", TagKind.INFERRED, {"questions": ("Q14.R5",)}),
        ("*(maintainer: DaanHoogland)*", TagKind.MAINTAINER, {"maintainers": ("DaanHoogland",)}),
        ("*(maintainer: vishesh92, DaanHoogland)*", TagKind.MAINTAINER, {"maintainers": ("vishesh92", "DaanHoogland")}),
        (
            "*(maintainer, 2026-06-12 — §14 Q8)*",
            TagKind.MAINTAINER,
            {"maintainers": (), "date": "2026-06-12", "questions": ("Q8",)},
        ),
        ("*(setting names maintainer: vishesh92)*", TagKind.MAINTAINER, {"maintainers": ("vishesh92",)}),
        ("*(maintainer — yes)*", TagKind.MAINTAINER, {"maintainers": ()}),
        ("*(maintainer — Claudenw + ottlinger, PR #677.)*", TagKind.MAINTAINER, {"maintainers": ("Claudenw", "ottlinger")}),
        ("*(maintainer — confirmed by the PMC in PR #677 review, 2026-06.)*", TagKind.MAINTAINER, {"maintainers": (), "date": "2026-06"}),
        ("*(documented + inferred — §14 Q7)*", TagKind.INFERRED, {"also": (TagKind.DOCUMENTED,), "questions": ("Q7",)}),
        ("*(documented at `X.java` line 12)*", TagKind.DOCUMENTED, {"source": "`X.java` line 12"}),
        ("*(documented since 2.2.3)*", TagKind.DOCUMENTED, {"source": None}),
    ],
)
def test_parse_tag_text(raw, kind, details):
    parsed = parse_tag_text(raw)
    assert parsed is not None
    assert parsed[0] is kind
    for key, value in details.items():
        assert parsed[1][key] == value


@pytest.mark.parametrize("raw", ["*(maps to §7, §9)*", "*(meta)*", "*(§3)*", "*(→ §3, §11a)*", "*(no default)*"])
def test_non_provenance_parentheses_are_not_tags(raw):
    assert parse_tag_text(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("**Q8.**", "Q8"), ("Q8.", "Q8"), ("1.", "1"), ("Q14.R1", "Q14.R1"), ("§14 Q11", "Q11"), ("q3", "Q3")],
)
def test_normalise_question_id(raw, expected):
    assert normalise_question_id(raw) == expected


def test_a_large_document_parses_whole():
    # About 1,200 lines, like the largest real document: the fixture repeated with renumbered ids.
    # How fast is bench/plan.py's to say (ratios in one run), not a timed test's on a shared machine.
    base = (FIXTURES / "cloudstack-shaped.md").read_text(encoding="utf-8")
    body, _, questions = base.partition("## §14 Open questions for the maintainers")
    text = body * 8 + "## §14 Open questions for the maintainers" + questions
    document = parse_document(text)
    assert len(text.split("\n")) > 1000
    assert len(document.questions) == 12
