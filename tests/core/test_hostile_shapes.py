"""Hostile text is read without error, and what comes out stays small.

The shapes are bench/linear.py's, which measures that reading them costs linear time up to
GitHub's 64 KB comment limit; timings stay in the benchmark. Here: the parts of the same
guarantee that do not depend on a clock, at 16 KB (well past the 4,300 digits at which Python
refuses to convert a number, which once made a comment unreadable)."""
from __future__ import annotations

import pytest

from bench_modules import load_bench
from bot.core.commands_parser import ANY_QUESTION
from bot.core.dialect import find_ids
from bot.core.document import parse_document
from bot.core.limits import LOGINS_PER_COMMENT
from bot.core.reader import MAX_BODY_CHARS, read_reply

HOSTILE_SIZE = 16 * 1024
LONGEST_ID = 24  # the longest id in the corpus is well under this; a run of digits must not become one


LINEAR = load_bench("linear")


@pytest.mark.parametrize("shape", sorted(LINEAR.REPLY_SHAPES))
def test_a_hostile_reply_reads_to_small_ids_and_few_logins(shape: str) -> None:
    body = LINEAR.REPLY_SHAPES[shape](HOSTILE_SIZE)
    reading = read_reply(body, author="someone", association="NONE", is_maintainer=True,
                         anchored_question="Q3", known_questions=ANY_QUESTION)
    ids = {answer.question for answer in reading.answers if answer.question} | set(reading.unknown_questions)
    assert all(len(question) <= LONGEST_ID for question in ids), sorted(ids, key=len)[-1][:40]
    assert len(reading.awaiting) <= LOGINS_PER_COMMENT


@pytest.mark.parametrize("shape", sorted(LINEAR.DOCUMENT_UNITS))
def test_a_hostile_document_parses_to_small_ids(shape: str) -> None:
    document = parse_document(LINEAR.hostile_document(LINEAR.DOCUMENT_UNITS[shape], HOSTILE_SIZE), "hostile.md")
    assert all(len(question.id) <= LONGEST_ID for question in document.questions)
    assert all(issue.line >= 1 for issue in document.issues)


@pytest.mark.parametrize("unit", LINEAR.ID_UNITS)
def test_ids_found_in_a_hostile_run_are_small(unit: str) -> None:
    ids = [question for match in find_ids((unit * HOSTILE_SIZE)[:HOSTILE_SIZE]) for question in match.ids]
    assert all(len(question) <= LONGEST_ID for question in ids)


def test_the_benchmark_covers_every_core_pattern() -> None:
    patterns = LINEAR.core_patterns()
    assert len(patterns) > 50
    assert {(module, name) for module, name, _ in patterns} >= LINEAR.ANCHORED_PATTERNS


def test_a_body_beyond_githubs_limit_is_read_up_to_it() -> None:
    body = "Yes." + " " * MAX_BODY_CHARS + "\n/strike Q3"
    reading = read_reply(body, author="a", association="MEMBER", is_maintainer=True, anchored_question="Q3",
                         known_questions=ANY_QUESTION)
    assert reading.commands == ()  # the command lies past the limit
