"""The figures a digest remembers: counts, settled ids, and the family's qualified sum."""
from __future__ import annotations

import pytest
from digest_builders import document, record

from bot.core.digest_figures import DigestFigures, digest_figures, family_figures, question_sort_key
from bot.core.records import Status


def test_retired_questions_leave_the_total_and_anything_past_open_counts_as_answered() -> None:
    records = [record(1), record(2, Status.ANSWERED), record(3, Status.FOLDED), record(4, Status.RETIRED)]
    figures = digest_figures(records, document({"documented": 2}), "2026-W48")
    assert (figures.answered, figures.total) == (2, 3)
    assert figures.folded == frozenset({"Q3"})
    assert figures.settled_ids() == frozenset({"Q3"})
    assert figures.tally == {"documented": 2}


def test_without_a_document_the_figures_carry_no_tally() -> None:
    assert digest_figures([record(1)], None, "2026-W48").tally == {}


def test_the_family_sum_qualifies_each_question_by_its_repository() -> None:
    canonical = DigestFigures(week="2026-W48", status_counts={"open": 1, "confirmed": 1}, confirmed=frozenset({"Q9"}),
                              tally={"documented": 3})
    satellite = DigestFigures(week="2026-W48", status_counts={"confirmed": 1}, confirmed=frozenset({"Q9"}),
                              tally={"documented": 1, "inferred": 2})
    summed = family_figures("2026-W48", {"apache/widget": canonical, "apache/widget-go": satellite})
    assert summed.status_counts == {"confirmed": 2, "open": 1}
    assert summed.confirmed == frozenset({"apache/widget:Q9", "apache/widget-go:Q9"})  # same id, two questions
    assert summed.tally == {"documented": 4, "inferred": 2}


@pytest.mark.parametrize(
    "data",
    [
        {"status": {"open": 1}},  # no week
        {"week": "2026-W48", "status": {"open": True}},  # a flag is not a count
        {"week": "2026-W48", "confirmed": "Q1"},  # ids come as a list
        ["2026-W48"],
        "{not json",
    ],
)
def test_figures_read_back_from_a_comment_reject_a_bad_shape(data: object) -> None:
    with pytest.raises(ValueError):
        DigestFigures.from_json(data)  # type: ignore[arg-type]


def test_question_ids_sort_naturally() -> None:
    assert sorted(["Q10", "Q14.R1", "Q8", "Q14"], key=question_sort_key) == ["Q8", "Q10", "Q14", "Q14.R1"]
