"""The document parser costs linear time on hostile input: 64 KB may cost < 100× what 1 KB does.

Each shape is a run of one character class the patterns care about, placed both in the body and
in §14, where the question reader works hardest.
"""
from __future__ import annotations

import time

import pytest

from bot.core.document import parse_document

SHAPES = {
    "Q": "Q",
    "Q and digits": "Q1",
    "digits": "9",
    "long number": "1234567890",
    "brackets": "[",
    "stars": "*",
    "backticks": "`",
    "pipes": "|",
    "tag openers": "*(",
    "bold ids": "**Q1.** ",
    "numbered lines": "1. x\n",
    "dashes": "-",
    "lines of stars": "*\n",
    "quotes": "> ",
    "named ids": "Q-a",
    "ranges": "Q1–Q2 ",
    "nested lists": "- ",
    "entries and look-alikes": "**Q1.** a\n\n**Qx b\n\n",
    "wave lines": "**Wave 1**\n",
    "dot-separated labels": " · **Q1.** a",
    "bare replies": "**Q1.** a? yes ",
    "ids between refs": "**Q1 (§1), Q2 (§2), Q3",
    "all settled": "all of the questions are ",
    "status stamps": "**Q1 — a ANSWERED ",
    "status after labels": "1. **a:** *resolved ",
}


def document_of(unit: str, size: int) -> str:
    head = "# T\n\n## §1 Scope\n\n"
    middle = "\n\n## §14 Open questions\n\n"
    half = max(1, (size - len(head) - len(middle)) // 2)
    run = (unit * (half // len(unit) + 1))[:half]
    return head + run + middle + run + "\n"


@pytest.mark.parametrize("unit", SHAPES.values(), ids=SHAPES.keys())
def test_parse_cost_grows_linearly(unit: str) -> None:
    # The best of five tries: a busy machine can slow one measurement down (a 64 KB run of list
    # items sits near 80x in markdown-it alone, whose per-item cost grows a little with the
    # token count), while a quadratic reading would miss by a factor of hundreds every time.
    tries = []
    for _ in range(5):
        small = per_call(document_of(unit, 1024))
        large = per_call(document_of(unit, 65536), runs=2)
        tries.append((large / small, small, large))
        if large < 100 * small:
            return
    ratio, small, large = min(tries)
    pytest.fail(f"64 KB costs {ratio:.0f}x 1 KB (1 KB: {small * 1000:.2f} ms, 64 KB: {large * 1000:.1f} ms)")


def per_call(text: str, runs: int = 5) -> float:
    """CPU seconds per parse (other processes on a busy machine do not count): the best of a few
    runs, each repeating the parse for at least 20 ms, so timer noise does not decide."""
    repeat = 1
    while True:
        started = time.process_time()
        for _ in range(repeat):
            parse_document(text, "hostile.md")
        if time.process_time() - started >= 0.02:
            break
        repeat *= 2
    fastest = float("inf")
    for _ in range(runs):
        started = time.process_time()
        for _ in range(repeat):
            parse_document(text, "hostile.md")
        fastest = min(fastest, (time.process_time() - started) / repeat)
    return fastest
