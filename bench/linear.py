"""Benchmark: reading hostile text costs time linear in its length (issue #12).

    python bench/linear.py [--only replies|documents|ids|patterns ...]

Anyone can comment on a public PR or open one from a fork, so the reply reader, the document
parser, the id finder and every module-level pattern in `bot/core` must cost time linear in
their input. Each check reads one hostile shape (a run of the characters a pattern cares about)
at a small and a large size and prints the growth exponent of the cost, measured in one run:

    exponent = log(large cost / small cost) / log(large size / small size)

A linear reading has an exponent near 1.0 and a quadratic one near 2.0. A check misses when its
exponent is 1.5 or more (at 64x the size: 512x the cost, where linear is 64x and quadratic
4,096x). Costs are CPU seconds, the best of a few runs, so other work on a shared machine
disturbs both sizes alike. The exit code is 1 when any check misses.

These are timings, so they live here and not in the test suite; the suite checks the same shapes
for what does not depend on the clock (tests/core/test_hostile_shapes.py).
"""
from __future__ import annotations

import argparse
import gc
import importlib
import math
import pkgutil
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.core  # noqa: E402
from bot.core.commands_parser import ANY_QUESTION  # noqa: E402
from bot.core.dialect import find_ids  # noqa: E402
from bot.core.document import parse_document  # noqa: E402
from bot.core.reader import read_reply  # noqa: E402

EXPONENT_LIMIT = 1.5
KB = 1024


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


# Replies: shapes a passer-by can post, each built to a given size in characters.
REPLY_SHAPES: dict[str, Callable[[int], str]] = {
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
    "spaces after an id": lambda size: "Q1" + " " * (size - 3) + "x",
    "spaces after a command": lambda size: "/confirm x" + " " * (size - 11) + "y",
    "table rows": lambda size: "\n".join(["| Q1 | yes |"] * (size // 13)),
    "misspelt commands": lambda size: "\n".join(["/confim"] * (size // 8)),
    "answers in clauses": _repeat("Q1 yes, "),
    "hedged answer lines": lambda size: "\n".join(["Q1: yes", *["Q2 need to check"] * (size // 17)]),
}

# Documents: each unit is repeated both in the body and in §14, where the question reader works hardest.
DOCUMENT_UNITS: dict[str, str] = {
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

ID_UNITS = ["Q", "Q1-", "Q1, ", "Q1 ", "9", "Q-a", "Q0"]

# Patterns only ever used anchored (`match`/`fullmatch` at one place) on a bounded piece of text:
# one attempt each, so their cost is linear whatever they backtrack inside it.
ANCHORED_PATTERNS = {("reader", "_REPLY_NUMBER"), ("tags", "_WRAPPED"), ("tags", "_BARE")}
# The characters patterns are made of, alone and in pairs (a pattern that backtracks does so on a run).
PATTERN_CHARACTERS = [" ", "0", "Q", "[", "(", ")", "*", "_", "`", "/", "-", "—", "@", "a", "§", ":", ".", "~",
                      ">", "|", "\n", '"', "#", "\\", ",", "Q1", "*(", "[a](", "Q1/", "Q1, "]


def hostile_document(unit: str, size: int) -> str:
    head = "# T\n\n## §1 Scope\n\n"
    middle = "\n\n## §14 Open questions\n\n"
    half = max(1, (size - len(head) - len(middle)) // 2)
    run = (unit * (half // len(unit) + 1))[:half]
    return head + run + middle + run + "\n"


def read_as_passerby(body: str) -> None:
    read_reply(body, author="someone", association="NONE", is_maintainer=True, anchored_question="Q3",
               known_questions=ANY_QUESTION)


@dataclass(frozen=True)
class Result:
    check: str
    shape: str
    small_ms: float
    large_ms: float
    exponent: float

    @property
    def held(self) -> bool:
        return math.isnan(self.exponent) or self.exponent < EXPONENT_LIMIT

    @property
    def verdict(self) -> str:
        if math.isnan(self.exponent):
            return "under 5 ms at 8 KB on every shape"
        return "linear" if self.held else f"MISSED (limit {EXPONENT_LIMIT})"


def cpu_per_call(work: Callable[[], object], runs: int = 3) -> float:
    """CPU seconds per call: the best of `runs` batches, each long enough (20 ms) that timer
    noise does not decide."""
    repeat = 1
    while True:
        started = time.process_time()
        for _ in range(repeat):
            work()
        if time.process_time() - started >= 0.02:
            break
        repeat *= 2
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        for _ in range(repeat):
            work()
        best = min(best, (time.process_time() - started) / repeat)
    return best


def growth(check: str, shape: str, work: Callable[[str], object], small: str, large: str) -> Result:
    small_cost = cpu_per_call(lambda: work(small))
    large_cost = cpu_per_call(lambda: work(large), runs=2)
    exponent = math.log(max(large_cost, 1e-9) / max(small_cost, 1e-9)) / math.log(len(large) / len(small))
    return Result(check, shape, small_cost * 1000, large_cost * 1000, exponent)


def core_patterns() -> list[tuple[str, str, re.Pattern[str]]]:
    found = []
    for info in pkgutil.iter_modules(bot.core.__path__):
        module = importlib.import_module(f"bot.core.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and value.pattern and isinstance(value.pattern, str):
                found.append((info.name, name, value))
    return found


def _scan(pattern: re.Pattern[str], anchored: bool) -> Callable[[str], object]:
    def scan(text: str) -> None:
        if anchored:
            pattern.match(text)
            pattern.fullmatch(text)
        else:
            for _match in pattern.finditer(text):
                pass
    return scan


def pattern_results() -> Iterator[Result]:
    """Each pattern's worst shape: units of one or two characters, 0.5 KB against 8 KB. Shapes that
    cost under 5 ms at 8 KB are passed over, whatever their ratio."""
    for module, name, pattern in core_patterns():
        scan = _scan(pattern, (module, name) in ANCHORED_PATTERNS)
        worst: Result | None = None
        for first in PATTERN_CHARACTERS:
            for second in PATTERN_CHARACTERS[:6]:
                unit = first + second
                large = (unit * 8 * KB)[: 8 * KB]
                started = time.process_time()
                scan(large)
                if time.process_time() - started < 0.005:
                    continue
                result = growth("pattern", f"{module}.{name} on {unit!r}", scan, (unit * KB)[: KB // 2], large)
                if worst is None or result.exponent > worst.exponent:
                    worst = result
        yield worst or Result("pattern", f"{module}.{name}", 0.0, 0.0, math.nan)


def reply_results() -> Iterator[Result]:
    for shape, make in REPLY_SHAPES.items():
        yield growth("reply", shape, read_as_passerby, make(KB), make(64 * KB))


def document_results() -> Iterator[Result]:
    for shape, unit in DOCUMENT_UNITS.items():
        yield growth("document", shape, lambda text: parse_document(text, "hostile.md"),
                     hostile_document(unit, KB), hostile_document(unit, 64 * KB))


def id_results() -> Iterator[Result]:
    for unit in ID_UNITS:
        yield growth("ids", repr(unit), lambda text: list(find_ids(text)), (unit * KB)[:KB], (unit * 64 * KB)[: 64 * KB])


CHECKS: dict[str, Callable[[], Iterator[Result]]] = {
    "replies": reply_results,
    "documents": document_results,
    "ids": id_results,
    "patterns": pattern_results,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(CHECKS), default=list(CHECKS))
    args = parser.parse_args(argv)
    # Full garbage collections would otherwise walk the whole heap, a cost unrelated to the reading.
    gc.collect()
    gc.freeze()
    print(f"{'check':9} {'shape':48} {'small ms':>9} {'large ms':>9} {'exponent':>8}  verdict")
    missed = 0
    for name in args.only:
        for result in CHECKS[name]():
            missed += not result.held
            print(f"{result.check:9} {result.shape[:48]:48} {result.small_ms:9.3f} {result.large_ms:9.2f} "
                  f"{result.exponent:8.2f}  {result.verdict}", flush=True)
    print(f"{missed} missed" if missed else "every check linear (exponent under 1.5)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
