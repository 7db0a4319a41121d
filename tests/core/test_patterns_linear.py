"""Every module-level pattern in the core costs time linear in its input (issue #12: anyone can
post a comment or open a PR, so a pattern that backtracks quadratically is a way to stall the bot).

The check is by shape: each pattern is run over runs of two-character units at 0.5 KB and 8 KB.
A linear pattern costs about 16 times more on the larger input; a quadratic one about 256 times.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import time

import pytest

import bot.core

# Patterns only ever used anchored (`match`/`fullmatch` at one place) on a bounded piece of text:
# one attempt each, so their cost is linear whatever they backtrack inside it.
ANCHORED = {("reader", "_REPLY_NUMBER"), ("tags", "_WRAPPED"), ("tags", "_BARE")}
# The characters patterns are made of, alone and in pairs (a pattern that backtracks does so on a run).
CHARACTERS = [" ", "0", "Q", "[", "(", ")", "*", "_", "`", "/", "-", "—", "@", "a", "§", ":", ".", "~", ">",
              "|", "\n", '"', "#", "\\", ",", "Q1", "*(", "[a](", "Q1/", "Q1, "]
SMALL, LARGE = 500, 8_000


def core_patterns() -> list[tuple[str, str, re.Pattern[str]]]:
    found = []
    for info in pkgutil.iter_modules(bot.core.__path__):
        module = importlib.import_module(f"bot.core.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and value.pattern and isinstance(value.pattern, str):
                found.append((info.name, name, value))
    return found


def cost(pattern: re.Pattern[str], text: str, anchored: bool, tries: int = 3) -> float:
    best = float("inf")
    for _ in range(tries):
        start = time.process_time()
        if anchored:
            pattern.match(text)
            pattern.fullmatch(text)
        else:
            for _match in pattern.finditer(text):
                pass
        best = min(best, time.process_time() - start)
    return best


def worst_shape(pattern: re.Pattern[str], anchored: bool) -> tuple[float, str]:
    worst, shape = 0.0, ""
    for first in CHARACTERS:
        for second in CHARACTERS[:6]:
            unit = first + second
            if cost(pattern, (unit * LARGE)[:LARGE], anchored, tries=1) < 0.005:
                continue  # too fast to matter, whatever the ratio
            large = cost(pattern, (unit * LARGE)[:LARGE], anchored)
            small = cost(pattern, (unit * SMALL)[:SMALL], anchored)
            ratio = large / max(small, 1e-4)
            if ratio > worst:
                worst, shape = ratio, unit
    return worst, shape


def test_the_core_has_patterns_to_check() -> None:
    assert len(core_patterns()) > 50


@pytest.mark.parametrize(("module", "name", "pattern"), core_patterns(), ids=lambda value: value if isinstance(value, str) else "")
def test_a_core_pattern_is_linear(module: str, name: str, pattern: re.Pattern[str]) -> None:
    ratio, shape = worst_shape(pattern, (module, name) in ANCHORED)
    assert ratio < 100, f"bot.core.{module}.{name} costs {ratio:.0f}× from 0.5 KB to 8 KB of {shape!r}"
