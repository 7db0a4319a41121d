"""The reader against replies of our own words (tests/fixtures/reader_cases_own.yaml, scored by
bench/reader.py): the shapes maintainers write in that the corpus threads barely show.

Same floors as the corpus labels: stance 95%, question 98%, awaited 95%, and not one dangerous
reading. The set needs no corpus, so it always runs."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.core.reader import read_reply
from bot.core.reader_output import Reading, Stance

ROOT = Path(__file__).resolve().parents[2]
KNOWN = frozenset(f"Q{number}" for number in range(1, 40))


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_reader_own", ROOT / "bench" / "reader.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def score():  # type: ignore[no-untyped-def]
    return _bench().evaluate_own()


def test_the_set_is_large_and_every_case_is_labelled() -> None:
    cases = _bench().load_own_cases()
    assert len(cases) >= 150
    assert len({case.key for case in cases}) == len(cases)
    assert all(case.body.strip() for case in cases)


def test_no_reading_is_dangerous(score) -> None:  # type: ignore[no-untyped-def]
    assert score.dangerous == []


def test_floors(score) -> None:  # type: ignore[no-untyped-def]
    assert score.rate(score.stance) >= 0.95, score.misses
    assert score.rate(score.question) >= 0.98, score.misses
    assert score.rate(score.awaited) >= 0.95, score.misses


def read(body: str, *, anchored: str | None = None, maintainer: bool = True) -> Reading:
    return read_reply(
        body,
        author="maint",
        association="MEMBER" if maintainer else "NONE",
        is_maintainer=maintainer,
        anchored_question=anchored,
        known_questions=KNOWN,
    )


def answers(reading: Reading) -> set[tuple[str | None, Stance]]:
    return {(answer.question, answer.stance) for answer in reading.answers}


def test_several_answers_on_one_line_each_bind() -> None:
    reading = read("Q3 - yes; Q4 - no, because the archive is never extracted on the server.")
    assert answers(reading) == {("Q3", Stance.CONFIRM), ("Q4", Stance.CORRECT)}
    assert reading.binding
    assert "never extracted" in next(answer.text for answer in reading.answers if answer.question == "Q4")


def test_a_second_id_inside_an_answer_does_not_split_it() -> None:
    reading = read("Q3: no, Q4 covers that case already")
    assert answers(reading) == {("Q3", Stance.CORRECT)}


def test_a_two_column_table_answers_each_row() -> None:
    reading = read("| Question | Answer |\n|---|---|\n| Q1 | yes |\n| Q2 | no, TLS is optional |")
    assert answers(reading) == {("Q1", Stance.CONFIRM), ("Q2", Stance.CORRECT)}


def test_a_wider_table_is_not_guessed_at() -> None:
    reading = read("| Q1 | Is the admin API open? | yes |")
    assert not reading.binding
    assert Stance.CONFIRM not in reading.stances or reading.heuristic


@pytest.mark.parametrize(("body", "meant"), [("/confim", "confirm"), ("/corect the port is 8443", "correct"), ("/strik Q3", "strike")])
def test_a_misspelt_command_is_unclear_and_says_which_was_meant(body: str, meant: str) -> None:
    reading = read(body, anchored="Q9")
    assert reading.stances == (Stance.UNCLEAR,)
    assert not reading.binding
    assert any(f"/{meant}" in problem for problem in reading.problems)


def test_another_bots_command_is_left_alone() -> None:
    for body in ("/retest", "/lgtm", "/close"):
        reading = read(body, anchored="Q9")
        assert Stance.UNCLEAR not in reading.stances, body
        assert reading.problems == (), body


def test_numbered_answers_run_together_on_one_line() -> None:
    reading = read("1) yes 2) no 3) yes")
    assert answers(reading) == {("Q1", Stance.CONFIRM), ("Q2", Stance.CORRECT), ("Q3", Stance.CONFIRM)}
    assert not reading.binding


def test_agreeing_with_someone_else_is_never_a_confirmation() -> None:
    for body in ("+1 to what @tom said", "Agree with @ursula.", "What @vera said.", "Same as Q4."):
        reading = read(body, anchored="Q7")
        assert reading.stances == (Stance.UNCLEAR,), body
        assert reading.awaiting == (), body


def test_a_hedged_line_among_bulk_answers_waits_and_decides_nothing() -> None:
    reading = read("- Q2: correct\n- Q3: correct\n- Q4: I need to check with the release manager")
    assert answers(reading) == {("Q2", Stance.CONFIRM), ("Q3", Stance.CONFIRM), ("Q4", Stance.TENTATIVE)}
    assert any("Q4" in problem for problem in reading.problems)  # still told it was not recorded as a verdict


def test_facts_on_a_line_among_bulk_answers_are_never_bound() -> None:
    reading = read("Q1: yes\nQ2 the cache is shared between tenants")
    assert answers(reading) == {("Q1", Stance.CONFIRM)}


def test_clauses_answering_different_questions_are_read_apart() -> None:
    reading = read("§14.2 confirmed, §14.3 strike")
    assert answers(reading) == {("Q2", Stance.CONFIRM), ("Q3", Stance.STRIKE)}
    reading = read("Q1 and Q2 are both right.")
    assert answers(reading) == {("Q1", Stance.CONFIRM), ("Q2", Stance.CONFIRM)}
