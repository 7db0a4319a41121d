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
}


def document_of(unit: str, size: int) -> str:
    head = "# T\n\n## §1 Scope\n\n"
    middle = "\n\n## §14 Open questions\n\n"
    half = max(1, (size - len(head) - len(middle)) // 2)
    run = (unit * (half // len(unit) + 1))[:half]
    return head + run + middle + run + "\n"


def best_time(text: str, repeat: int) -> float:
    fastest = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeat):
            parse_document(text, "hostile.md")
        fastest = min(fastest, (time.perf_counter() - started) / repeat)
    return fastest


@pytest.mark.parametrize("unit", SHAPES.values(), ids=SHAPES.keys())
def test_parse_cost_grows_linearly(unit: str) -> None:
    small = best_time(document_of(unit, 1024), 64)
    large = best_time(document_of(unit, 65536), 1)
    assert large < 100 * max(small, 1e-5), f"1 KB: {small * 1000:.2f} ms, 64 KB: {large * 1000:.1f} ms"
