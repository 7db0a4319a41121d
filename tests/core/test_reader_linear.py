"""Reading a reply costs time linear in its length, and never more than GitHub's comment limit.

Each adversarial shape is read at 1 KB and at 64 KB; the 64 KB read must cost less than 100x
the 1 KB one (a quadratic reader costs about 4,000x). Times are CPU time, the best of a few
runs, so a busy machine does not decide the result."""
from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator

import pytest

from bot.core.commands_parser import ANY_QUESTION, question_ids_in
from bot.core.reader import MAX_BODY_CHARS, read_reply

SMALL, LARGE = 1_024, 65_536
RATIO_LIMIT = 100


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


SHAPES: dict[str, Callable[[int], str]] = {
    "digits after Q": lambda size: "Q" + "0" * (size - 2) + "x",
    "digit runs": _repeat("1234567890"),
    "open brackets": _repeat("["),
    "link-like brackets": _repeat("[a]("),
    "slashes": _repeat("/"),
    "slash commands": lambda size: "\n".join(["/confirm Q1 Q2 Q3"] * (size // 18)),
    "double quotes": _repeat('"'),
    "single quotes": _repeat("'"),
    "Qs": _repeat("Q"),
    "Q ids": _repeat("Q1 "),
    "named ids": _repeat("Q-a-"),
    "backticks": _repeat("`"),
    "backtick runs": _repeat("` `` ``` "),
    "stars": _repeat("*"),
    "underscores": _repeat("_"),
    "emphasis pairs": _repeat("**a__"),
    "mentions": _repeat("@a "),
    "comma clauses": _repeat("no, "),
    "agreements": _repeat("yes, "),
    "dashes": _repeat(" -"),
    "quote lines": lambda size: "\n".join(["> Q1 yes"] * (size // 9)),
    "html comments": _repeat("<!--"),
    "bulk lines": lambda size: "\n".join(["Q1: correct - x"] * (size // 16)),
    "question words": _repeat("question 5 and "),
    "answers on one line": _repeat("Q1 - yes; "),
    "inline items": _repeat("1) yes "),
    "spaces after an item": lambda size: "1. " + " " * (size - 4) + "x",
    "table rows": lambda size: "\n".join(["| Q1 | yes |"] * (size // 13)),
    "misspelt commands": lambda size: "\n".join(["/confim"] * (size // 8)),
    "answers in clauses": _repeat("Q1 yes, "),
    "hedged answer lines": lambda size: "\n".join(["Q1: yes", *["Q2 need to check"] * (size // 17)]),
}


def _cost(body: str, times: int = 1) -> float:
    """CPU seconds for one read of `body`: the best of two batches of `times` reads each.
    The 1 KB read is batched 64 times, so both sizes spend as long on the CPU and a busy
    machine disturbs both alike."""
    best = float("inf")
    for _ in range(2):
        started = time.process_time()
        for _ in range(times):
            read_reply(body, author="someone", association="NONE", is_maintainer=True, anchored_question="Q3", known_questions=ANY_QUESTION)
        best = min(best, (time.process_time() - started) / times)
    return best


@pytest.fixture
def quiet_heap() -> Iterator[None]:
    """Full garbage collections would otherwise walk the test runner's whole heap, a cost that
    has nothing to do with the reader; freezing it leaves only the reader's own objects."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.mark.usefixtures("quiet_heap")
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_reading_cost_grows_linearly(shape: str) -> None:
    make = SHAPES[shape]
    small = _cost(make(SMALL), times=LARGE // SMALL)
    large = _cost(make(LARGE))
    # A floor of 1 ms for the small read keeps timer noise on tiny inputs from deciding.
    assert large < RATIO_LIMIT * max(small, 0.001), f"{shape}: {large:.3f}s at 64 KB vs {small:.4f}s at 1 KB"


def test_a_body_beyond_githubs_limit_is_read_up_to_it() -> None:
    body = "Yes." + " " * MAX_BODY_CHARS + "\n/strike Q3"
    reading = read_reply(body, author="a", association="MEMBER", is_maintainer=True, anchored_question="Q3", known_questions=ANY_QUESTION)
    assert reading.commands == ()  # the command lies past the limit


def test_a_huge_number_after_q_is_not_an_id_and_does_not_raise() -> None:
    assert question_ids_in("Ref Q" + "1" * 5000) == []
    reading = read_reply("Ref Q" + "1" * 5000, author="x", association="NONE", is_maintainer=False, anchored_question="Q3", known_questions=ANY_QUESTION)
    assert not reading.binding
