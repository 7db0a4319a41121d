"""The weekly digest of one PR: numbers, sections, mention discipline, determinism."""
from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from digest_builders import (
    LOGINS,
    NOW,
    PR,
    WAVE_ONE,
    WAVE_TWO,
    ago,
    answer,
    document,
    mention_counts,
    record,
    record_sets,
    section,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.digest_figures import DigestFigures
from bot.core.digest_sections import progress_bar
from bot.core.digest_wording import render_digest
from bot.core.model import Document, Question, QuestionState, Span
from bot.core.records import FollowUp, FollowUpState, Proposal, ProposalState, Record, Status, Thread

# --- headline and progress ------------------------------------------------------------


def thirty_one_questions() -> list[Record]:
    """31 tracked questions (2 open), plus one retired that must not count."""
    statuses = [Status.CONFIRMED] * 12 + [Status.FOLDED] * 10 + [Status.ANSWERED] * 5
    statuses += [Status.CORRECTED, Status.STRUCK, Status.OPEN, Status.OPEN]
    records = [
        record(number, status, wave=WAVE_ONE if number <= 10 else WAVE_TWO)
        for number, status in enumerate(statuses, start=1)
    ]
    return [*records, record(99, Status.RETIRED, wave=WAVE_TWO)]


def test_headline_counts_every_status_past_open_and_ignores_retired() -> None:
    digest = render_digest(thirty_one_questions(), None, None, NOW, maintainers=())
    assert "**29 of 31 questions answered**" in digest.markdown
    assert digest.figures.total == 31 and digest.figures.answered == 29
    assert digest.figures.count(Status.RETIRED) == 1


def test_progress_by_wave_rows_carry_exact_numbers_and_bars() -> None:
    digest = render_digest(thirty_one_questions(), None, None, NOW, maintainers=())
    progress = section(digest.markdown, "Progress")
    # Q1..Q10 are all settled; Q11..Q31 hold the two open ones.
    assert f"| {WAVE_ONE} | 10 of 10 | `{'█' * 20}` 100% |" in progress
    assert f"| {WAVE_TWO} | 19 of 21 | `{'█' * 18}{'░' * 2}` 90% |" in progress
    assert progress.splitlines()[1] == f"`{'█' * 18}{'░' * 2}` 93%"  # 29/31, floored


def test_questions_without_a_wave_get_their_own_row() -> None:
    digest = render_digest([record(1, wave=None), record(2, Status.CONFIRMED, wave=None)], None, None, NOW, maintainers=())
    assert "| No wave | 1 of 2 |" in digest.markdown


@pytest.mark.parametrize(
    ("done", "total", "expected"),
    [
        (0, 10, "░" * 20),
        (10, 10, "█" * 20),
        (5, 10, "█" * 10 + "░" * 10),
        (1, 1000, "█" + "░" * 19),  # something done never shows as empty
        (999, 1000, "█" * 19 + "░"),  # not finished never shows as full
        (0, 0, "░" * 20),
    ],
)
def test_progress_bar_is_fixed_width_and_never_contradicts_the_numbers(done: int, total: int, expected: str) -> None:
    bar = progress_bar(done, total)
    assert bar == expected
    assert len(bar) == 20


def test_progress_bar_width_is_configurable() -> None:
    assert progress_bar(3, 4, width=8) == "██████░░"


# --- provenance pie -------------------------------------------------------------------


def test_tally_is_a_mermaid_pie_with_one_slice_per_nonzero_kind() -> None:
    doc = document({"documented": 120, "inferred": 0, "maintainer": 41})
    digest = render_digest([record(1)], doc, None, NOW, maintainers=())
    block = re.search(r"```mermaid\n(.*?)\n```", digest.markdown, re.S)
    assert block is not None
    lines = block.group(1).splitlines()
    assert lines[0] == "pie showData"
    assert lines[1].strip().startswith("title ")
    assert [line.strip() for line in lines[2:]] == ['"documented" : 120', '"maintainer" : 41']


def test_without_a_document_there_is_no_pie_and_no_tally_figures() -> None:
    digest = render_digest([record(1)], None, None, NOW, maintainers=())
    assert "```mermaid" not in digest.markdown
    assert "no tally" in section(digest.markdown, "Provenance tally")
    assert digest.figures.tally == {}


# --- change since last week -----------------------------------------------------------


def test_changes_are_computed_against_last_weeks_figures() -> None:
    previous = DigestFigures(
        week="2026-W47",
        status_counts={"open": 2, "answered": 1, "confirmed": 2},
        confirmed=frozenset({"Q1", "Q2"}),
        tally={"documented": 50, "inferred": 9, "maintainer": 4},
    )
    records = [
        record(1, Status.CONFIRMED),  # unchanged
        record(2, Status.FOLDED, answers=(answer("ada-l"),)),  # confirmed -> folded
        record(3, Status.CONFIRMED, answers=(answer("vishesh92"),)),  # newly confirmed
        record(4, Status.CORRECTED, answers=(answer("ada-l", stance="correct"),)),
        record(5, Status.STRUCK),
    ]
    doc = document({"documented": 50, "inferred": 6, "maintainer": 7})
    changes = section(render_digest(records, doc, previous, NOW, maintainers=()).markdown, "Since 2026-W47")
    lines = [line for line in changes.splitlines() if line]
    assert lines == [
        "- Answered: 3 of 5 → 5 of 5",
        "- Newly confirmed: Q3 (by `vishesh92`)",
        "- Corrected: Q4 (by `ada-l`)",
        "- Struck: Q5",
        "- Folded into the document: Q2 (by `ada-l`)",
        "- 3 tags promoted to maintainer (inferred 9 → 6, maintainer 4 → 7)",
    ]


def test_a_question_that_lost_its_settled_status_is_reported_reopened() -> None:
    previous = DigestFigures(week="2026-W47", status_counts={"confirmed": 1}, confirmed=frozenset({"Q1"}))
    changes = section(render_digest([record(1, Status.ANSWERED)], None, previous, NOW, maintainers=()).markdown, "Since 2026-W47")
    assert "- Reopened: Q1" in changes


def test_identical_figures_report_no_change_and_no_previous_says_first_digest() -> None:
    records = [record(1, Status.CONFIRMED), record(2)]
    doc = document({"documented": 3, "inferred": 1, "maintainer": 1})
    first = render_digest(records, doc, None, NOW, maintainers=())
    assert "First digest" in section(first.markdown, "Since last week")
    again = render_digest(records, doc, first.figures, NOW + timedelta(days=7), maintainers=())
    assert "- No change since 2026-W48." in section(again.markdown, "Since 2026-W48")


# --- who is awaited, and mentions -----------------------------------------------------


def test_each_awaited_person_is_listed_once_with_all_their_questions() -> None:
    records = [
        record(3, awaiting=("DaanHoogland",), thread=Thread(comment_id=3003)),
        record(11, Status.ANSWERED, awaiting=("daanhoogland", "guest-user")),  # same person, other case
        record(7, awaiting=("@DaanHoogland",)),
        record(9, Status.CONFIRMED, awaiting=("DaanHoogland",)),  # settled: owes nothing any more
    ]
    awaited = section(render_digest(records, None, None, NOW, maintainers=(), pr_url=PR).markdown, "Awaiting answers")
    people = [line for line in awaited.splitlines() if line.startswith("- ")]
    assert people == ["- `DaanHoogland` — 3 questions:", "- `guest-user` — 1 question:"]
    daan_block = awaited.split("- `guest-user`")[0]
    assert re.findall(r"^  - \[?(Q\d+)", daan_block, re.M) == ["Q3", "Q7", "Q11"]
    assert f"[Q3]({PR}#discussion_r3003) Topic number 3" in daan_block


def test_thread_url_callable_overrides_the_pr_anchor() -> None:
    digest = render_digest(
        [record(4, awaiting=("ada-l",), thread=Thread(comment_id=1))],
        None,
        None,
        NOW,
        maintainers=(),
        pr_url=PR,
        thread_url=lambda rec: f"https://example.org/threads/{rec.id}",
    )
    assert "[Q4](https://example.org/threads/Q4)" in digest.markdown
    assert "discussion_r1" not in digest.markdown


def test_mentions_only_maintainers_and_each_at_most_once() -> None:
    records = [
        record(1, awaiting=("DaanHoogland", "outsider")),
        record(2, Status.ANSWERED, awaiting=("DaanHoogland",), answers=(answer("outsider", binding=False),)),
        record(3, awaiting=("DaanHoogland",), updated_at=ago(40)),  # stale: names him again
        record(4, Status.CONFIRMED, answers=(answer("DaanHoogland"),)),  # named as the confirmer too
        record(5, title="please ping @outsider and @DaanHoogland here", awaiting=("vishesh92",)),
    ]
    previous = DigestFigures(week="2026-W47", status_counts={"open": 5})
    digest = render_digest(records, None, previous, NOW, maintainers={"daanhoogland", "Vishesh92"})
    counts = mention_counts(digest.markdown)
    assert counts == Counter({"daanhoogland": 1, "vishesh92": 1})
    assert "outsider" not in counts
    assert "`outsider`" in digest.markdown  # named, not mentioned
    assert "`DaanHoogland`" in digest.markdown  # named again after the one mention
    assert digest.mentioned == ("DaanHoogland", "vishesh92")


def test_nobody_awaited_is_said_plainly() -> None:
    digest = render_digest([record(1, Status.CONFIRMED)], None, None, NOW, maintainers={"x"})
    assert "Nobody is awaited." in section(digest.markdown, "Awaiting answers")
    assert digest.mentioned == ()


# --- stale questions ------------------------------------------------------------------


def test_stale_is_measured_from_the_latest_answer_or_update_relative_to_now() -> None:
    records = [
        record(1, updated_at=ago(30), answers=(answer("ada-l", days_ago=3, binding=False),)),  # answer is recent
        record(2, updated_at=ago(15)),
        record(3, updated_at=ago(14)),  # exactly the threshold counts
        record(4, updated_at=ago(13, hours=23)),
        record(5, Status.CONFIRMED, updated_at=ago(90)),  # settled questions are never stale
        record(6, Status.ANSWERED, updated_at=ago(20), awaiting=("ada-l",)),
    ]
    stale = section(render_digest(records, None, None, NOW, maintainers=()).markdown, "No activity for 14+ days")
    assert re.findall(r"^- (Q\d+)", stale, re.M) == ["Q6", "Q2", "Q3"]
    assert "- Q6 Topic number 6 — 20 days without activity, awaiting `ada-l`" in stale
    a_week_earlier = render_digest(records, None, None, NOW - timedelta(days=7), maintainers=())
    assert "Nothing stale." in section(a_week_earlier.markdown, "No activity for 14+ days")


def test_stale_days_is_a_parameter_and_unknown_activity_counts_as_stale() -> None:
    undated = Record(**{**record(2).__dict__, "updated_at": None})
    digest = render_digest([record(1, updated_at=ago(4)), undated], None, None, NOW, maintainers=(), stale_days=3)
    stale = section(digest.markdown, "No activity for 3+ days")
    assert "- Q2 Topic number 2 — no activity recorded" in stale
    assert "- Q1 Topic number 1 — 4 days without activity" in stale


# --- follow-ups and next steps --------------------------------------------------------


def test_followups_link_opened_issues_and_name_unopened_ones() -> None:
    records = [
        record(
            2,
            Status.CONFIRMED,
            followups=(
                FollowUp("Check that download links expire", "test", FollowUpState.OPEN, url="https://github.com/example/widget/issues/12", number=12),
                FollowUp("Say the admin API is trusted in the docs", "docs", FollowUpState.PROPOSED),
            ),
        ),
        record(1, followups=(FollowUp("Retire the legacy port", "issue", FollowUpState.CLOSED, url="https://github.com/example/widget/issues/3", number=3),)),
    ]
    followups = section(render_digest(records, None, None, NOW, maintainers=()).markdown, "Follow-up issues")
    assert [line for line in followups.splitlines() if line] == [
        "- [#12 Check that download links expire](https://github.com/example/widget/issues/12) — open (Q2, test)",
        "- Say the admin API is trusted in the docs — proposed, no issue opened yet (Q2, docs)",
        "- [#3 Retire the legacy port](https://github.com/example/widget/issues/3) — closed (Q1, issue)",
    ]


def test_next_steps_cover_proposals_folding_confirmation_followups_and_the_document() -> None:
    records = [
        record(9, Status.ANSWERED, proposals=(
            Proposal("Q9-promote-1", "promote", ProposalState.PROPOSED, "flip 2 tags"),
            Proposal("Q9-x", "resolve", ProposalState.APPLIED, "done"),
        )),
        record(10, Status.CONFIRMED),
        record(11, Status.CONFIRMED),
        record(12, Status.CORRECTED),
        record(13, Status.FOLDED, followups=(FollowUp("Write a fuzz test", "test", FollowUpState.PROPOSED),)),
    ]
    doc = document(
        {"documented": 1, "inferred": 1, "maintainer": 1},
        question_ids=("Q9", "Q10", "Q14"),
        disagreements=("inferred: stated 64, counted 1", "maintainer: stated 9, counted 1"),
    )
    steps = section(render_digest(records, doc, None, NOW, maintainers=()).markdown, "Proposed next steps")
    assert [line for line in steps.splitlines() if line] == [
        "- Q9: 1 proposal waiting for `/accept`",
        "- confirm, correct or strike 1 answered question with no binding answer yet: Q9",
        "- fold 2 confirmed and 1 corrected questions into the document: Q10, Q11, Q12",
        "- open 1 proposed follow-up issue with `/followup`: Q13",
        "- fix the stated provenance tally (inferred: stated 64, counted 1; maintainer: stated 9, counted 1)",
        "- import 1 question the document has but no record tracks: Q14",
    ]


# --- determinism ----------------------------------------------------------------------


def test_same_inputs_give_byte_identical_markdown_whatever_the_input_order() -> None:
    records = [*thirty_one_questions(), record(40, awaiting=("DaanHoogland", "ada-l"), updated_at=ago(30))]
    doc = document({"documented": 9, "inferred": 3, "maintainer": 5})
    previous = DigestFigures(week="2026-W47", status_counts={"open": 20}, tally={"documented": 9, "inferred": 6, "maintainer": 2})
    first = render_digest(records, doc, previous, NOW, maintainers=["DaanHoogland", "ada-l"], pr_url=PR)
    second = render_digest(list(reversed(records)), doc, previous, NOW, maintainers={"ada-l", "DaanHoogland"}, pr_url=PR)
    assert first.markdown.encode() == second.markdown.encode()
    assert first.figures == second.figures


# --- property: mentions ---------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(records=record_sets(), maintainers=st.sets(st.sampled_from(LOGINS)))
def test_every_mention_is_a_maintainer_and_appears_at_most_once(records: list[Record], maintainers: set[str]) -> None:
    previous = DigestFigures(week="2026-W47", status_counts={"open": 1}, confirmed=frozenset({"Q1"}))
    digest = render_digest(records, None, previous, NOW, maintainers=maintainers, pr_url=PR)
    counts = mention_counts(digest.markdown)
    allowed = {login.lower() for login in maintainers}
    assert set(counts) <= allowed
    assert all(count == 1 for count in counts.values())
    assert sorted(login.lower() for login in digest.mentioned) == sorted(counts)


# --- over a real document, when the shared corpus is present ---------------------------

def test_digest_over_the_real_cloudstack_document() -> None:
    from bot.core.document import parse_document
    from corpus import CLOUDSTACK_DOCUMENT, corpus_file

    with open(corpus_file(CLOUDSTACK_DOCUMENT), encoding="utf-8") as handle:
        doc = parse_document(handle.read(), "draft-THREAT-MODEL.md")
    states = {QuestionState.OPEN: Status.OPEN, QuestionState.ANSWERED: Status.ANSWERED, QuestionState.RESOLVED: Status.CONFIRMED}
    records = [
        Record(
            id=question.id,
            document=doc.path,
            wave=question.wave,
            title=question.text[:60],
            question=question.text,
            proposed_answer=question.proposed_answer,
            maps_to=question.maps_to,
            document_state=question.state.value,
            lines=(question.span.start_line, question.span.end_line),
            status=states[question.state],
            awaiting=("DaanHoogland",) if question.state is QuestionState.OPEN else (),
            updated_at=ago(3),
        )
        for question in doc.questions
    ]
    digest = render_digest(records, doc, None, NOW, maintainers={"DaanHoogland"})
    answered = sum(question.state is not QuestionState.OPEN for question in doc.questions)
    assert f"**{answered} of {len(doc.questions)} questions answered**" in digest.markdown
    pie = re.search(r"```mermaid\n(.*?)\n```", digest.markdown, re.S)
    assert pie is not None
    slices = dict(re.findall(r'"(\w+)" : (\d+)', pie.group(1)))
    assert {kind: int(count) for kind, count in slices.items()} == {k: v for k, v in doc.tally.claim_counts.items() if v}
    waves = {question.wave or "No wave" for question in doc.questions}
    assert len(re.findall(r"^\| Wave|^\| No wave", section(digest.markdown, "Progress"), re.M)) == len(waves) + 1  # + header
    assert "no record tracks" not in digest.markdown
    assert mention_counts(digest.markdown) == (Counter({"daanhoogland": 1}) if answered < len(doc.questions) else Counter())


def test_waves_follow_the_document_order_even_when_numbering_does_not() -> None:
    doc = document({"documented": 1})
    doc = Document(
        **{
            **doc.__dict__,
            "questions": tuple(
                Question(id=qid, wave=wave, span=Span(i, i), text="?", proposed_answer=None, maps_to=(), state=QuestionState.OPEN)
                for i, (qid, wave) in enumerate([("Q1", WAVE_ONE), ("Q5", WAVE_TWO), ("Q2", "Wave 3 — later")])
            ),
        }
    )
    records = [record(1, wave=WAVE_ONE), record(2, wave="Wave 3 — later"), record(5, wave=WAVE_TWO)]
    progress = section(render_digest(records, doc, None, NOW, maintainers=()).markdown, "Progress")
    assert re.findall(r"^\| (Wave \d)", progress, re.M) == ["Wave 1", "Wave 2", "Wave 3"]
    without_document = section(render_digest(records, None, None, NOW, maintainers=()).markdown, "Progress")
    assert re.findall(r"^\| (Wave \d)", without_document, re.M) == ["Wave 1", "Wave 3", "Wave 2"]


def test_a_wave_whose_questions_were_all_removed_keeps_its_place() -> None:
    # `retire: remove` takes folded questions out of §14: Wave 1's are gone from the document,
    # its records remain, and its row still comes first.
    doc = document({"documented": 1})
    doc = Document(
        **{
            **doc.__dict__,
            "questions": tuple(
                Question(id=qid, wave=wave, span=Span(i, i), text="?", proposed_answer=None, maps_to=(), state=QuestionState.OPEN)
                for i, (qid, wave) in enumerate([("Q3", WAVE_TWO), ("Q4", "Wave 3 — later")])
            ),
        }
    )
    records = [
        record(1, Status.FOLDED, wave=WAVE_ONE),
        record(2, Status.FOLDED, wave=WAVE_ONE),
        record(3, wave=WAVE_TWO),
        record(4, wave="Wave 3 — later"),
        record(5, wave=None),
    ]
    progress = section(render_digest(records, doc, None, NOW, maintainers=()).markdown, "Progress")
    assert re.findall(r"^\| (Wave \d|No wave)", progress, re.MULTILINE) == ["Wave 1", "Wave 2", "Wave 3", "No wave"]
    assert "| Wave 1 — what the project promises | 2 of 2 |" in progress
