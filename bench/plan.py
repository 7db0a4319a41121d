"""Benchmark: parse the largest threat model and plan its promotions, against a 50 ms target.

Run: `python bench/plan.py [--repeat N] [--document PATH]`. Uses the largest document in
/work/shared/corpus/threat-models/ when it exists, else the largest fixture in
tests/fixtures/documents/. The records confirm every question the document has (binding, nobody
awaited), so open ones are marked resolved and every linked inferred tag is flipped: the most
work a plan can be asked to do on that document.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.document import parse_document  # noqa: E402
from bot.core.model import Document  # noqa: E402
from bot.core.planner import PlanOptions, plan_document, plan_promotions  # noqa: E402
from bot.core.records import Answer, Record, Status  # noqa: E402

TARGET_MS = 50.0
CORPUS = Path("/work/shared/corpus/threat-models")
FIXTURES = ROOT / "tests" / "fixtures" / "documents"


def largest_document() -> Path:
    folder = CORPUS if CORPUS.is_dir() else FIXTURES
    candidates = sorted(folder.glob("*.md"), key=lambda path: path.stat().st_size)
    if not candidates:
        raise SystemExit(f"no documents in {folder}")
    return candidates[-1]


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


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(label: str, times: list[float]) -> str:
    median = statistics.median(times)
    verdict = "within" if median <= TARGET_MS else "OVER"
    return f"{label:<14} min {min(times):7.2f} ms   median {median:7.2f} ms   ({verdict} the {TARGET_MS:.0f} ms target)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--document", type=Path, default=None)
    args = parser.parse_args(argv)

    path = args.document or largest_document()
    text = path.read_text(encoding="utf-8")
    document = parse_document(text, path.name)
    records = confirming_records(document)
    options = PlanOptions(path=path.name)
    plan = plan_promotions(text, records, options)
    print(f"document: {path} ({len(text.splitlines())} lines, {len(document.tags)} tags, {len(document.questions)} questions)")
    print(
        f"plan: {len(plan.promotions)} promotions, {len(plan.resolved)} resolved, "
        f"{len(plan.for_humans)} for humans, {len(plan.diff.splitlines())} diff lines"
    )
    print(report("parse", timed(lambda: parse_document(text, path.name), args.repeat)))
    print(report("plan", timed(lambda: plan_document(document, text, records, options), args.repeat)))
    print(report("parse + plan", timed(lambda: plan_promotions(text, records, options), args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
