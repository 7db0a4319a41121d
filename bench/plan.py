"""Benchmark: parse and plan EVERY corpus document, report the slowest against a 50 ms target.

Run: `python bench/plan.py [--repeat N] [--document PATH ...]`. Reads every document in
../shared/corpus/threat-models/ (beside the repository), else the fixtures in
tests/fixtures/documents/. For each document the records confirm every question it has
(binding, nobody awaited), so open questions are marked resolved and every linked inferred tag
is flipped: the most work a plan can be asked to do there. It prints the figures, each total as
a ratio to the target with `MISS` where it is over, and names the documents that miss; it does not
assert them (timings depend on the machine, and CPU time still grows when the machine is shared).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.document import parse_document  # noqa: E402
from bot.core.model import Document  # noqa: E402
from bot.core.planner import PlanOptions, ResolveStyle, plan_document  # noqa: E402
from bot.core.records import Answer, Record, Status  # noqa: E402

TARGET_MS = 50.0
CORPUS = ROOT.parent / "shared" / "corpus" / "threat-models"
FIXTURES = ROOT / "tests" / "fixtures" / "documents"


@dataclass(frozen=True)
class Timing:
    path: Path
    lines: int
    questions: int
    promotions: int
    resolved: int
    parse_ms: float
    plan_ms: float
    remove_ms: float  # the same records planned with `retire: remove`

    @property
    def total_ms(self) -> float:
        return self.parse_ms + max(self.plan_ms, self.remove_ms)


def documents() -> list[Path]:
    folder = CORPUS if CORPUS.is_dir() else FIXTURES
    found = sorted(folder.glob("*.md"))
    if not found:
        raise SystemExit(f"no documents in {folder}")
    return found


def confirming_records(document: Document) -> list[Record]:
    return [
        Record(
            id=question.id,
            document=document.path,
            wave=question.wave,
            title=question.text[:60],
            question=question.text,
            proposed_answer=question.proposed_answer,
            maps_to=question.maps_to,
            document_state=question.state.value,
            lines=(question.span.start_line, question.span.end_line),
            status=Status.CONFIRMED,
            answers=(
                Answer(
                    author="bench-maintainer",
                    association="MEMBER",
                    stance="confirm",
                    excerpt="confirmed as proposed",
                    at="2026-06-12T09:00:00Z",
                    binding=True,
                ),
            ),
        )
        for question in document.questions
    ]


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        action()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def measure(path: Path, repeat: int) -> Timing:
    text = path.read_text(encoding="utf-8")
    document = parse_document(text, path.name)
    records = confirming_records(document)
    detected = PlanOptions(path=path.name)
    removing = PlanOptions(path=path.name, resolve_style=ResolveStyle.REMOVE)
    plan = plan_document(document, text, records, detected)
    return Timing(
        path=path,
        lines=text.count("\n") + 1,
        questions=len(document.questions),
        promotions=len(plan.promotions),
        resolved=len(plan.resolved),
        parse_ms=median_ms(lambda: parse_document(text, path.name), repeat),
        plan_ms=median_ms(lambda: plan_document(document, text, records, detected), repeat),
        remove_ms=median_ms(lambda: plan_document(document, text, records, removing), repeat),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per document; the median is reported")
    parser.add_argument("--document", type=Path, action="append", default=None, help="only these documents")
    args = parser.parse_args(argv)

    paths = args.document or documents()
    timings = sorted((measure(path, args.repeat) for path in paths), key=lambda timing: timing.total_ms)
    print(
        f"{'document':<52} {'lines':>5} {'qs':>3} {'tags':>4} {'res':>3} {'parse':>7} {'plan':>7} {'remove':>7} {'total':>7} "
        f"{'target':>6}"
    )
    for timing in timings:
        ratio = timing.total_ms / TARGET_MS
        print(
            f"{timing.path.name[:52]:<52} {timing.lines:>5} {timing.questions:>3} {timing.promotions:>4} {timing.resolved:>3} "
            f"{timing.parse_ms:>7.2f} {timing.plan_ms:>7.2f} {timing.remove_ms:>7.2f} {timing.total_ms:>7.2f} "
            f"{ratio:>5.2f}x{'  MISS' if timing.total_ms > TARGET_MS else ''}"
        )
    slowest = timings[-1]
    over = [timing for timing in timings if timing.total_ms > TARGET_MS]
    print(
        f"\n{len(timings)} documents, median of {args.repeat} runs each (CPU ms; total = parse + the slower plan; "
        f"target = total / {TARGET_MS:.0f} ms). "
        f"Slowest: {slowest.path.name} at {slowest.total_ms:.2f} ms "
        f"(parse {slowest.parse_ms:.2f} + plan {max(slowest.plan_ms, slowest.remove_ms):.2f}); "
        + (
            f"MISSED by {len(over)}: {', '.join(timing.path.name for timing in over)}."
            if over
            else f"all under the {TARGET_MS:.0f} ms target."
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
