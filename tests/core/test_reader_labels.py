"""The reader against hand labels of every reply in the corpus threads (bench/reader.py).

Floors: stance 95%, question 98%, awaited 95%, and not one dangerous reading (a confirmation
where the reply does not confirm; anything binding from free text or a non-maintainer)."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared"
THREADS = SHARED / "corpus" / "threads"

pytestmark = pytest.mark.skipif(
    not THREADS.is_dir() and not os.environ.get("CI"), reason="the shared corpus is not available (set CI to make this a failure)"
)


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_reader", ROOT / "bench" / "reader.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def score():  # type: ignore[no-untyped-def]
    assert THREADS.is_dir(), f"no corpus threads at {THREADS}"
    return _bench().evaluate(SHARED)


def test_every_corpus_thread_file_is_labelled() -> None:
    bench = _bench()
    labelled = {case.key.split("#")[0] for case in bench.load_cases(SHARED)}
    assert labelled == {path.stem for path in THREADS.glob("*.json")} - _threads_without_replies()


def _threads_without_replies() -> set[str]:
    """Threads whose every entry is the PR's description or its author's own comment."""
    import json

    quiet = set()
    for path in THREADS.glob("*.json"):
        entries = json.loads(path.read_text(encoding="utf-8"))
        author = next((entry["author"] for entry in entries if entry["kind"] == "description"), "potiuk")
        if all(entry["kind"] == "description" or entry["author"] in (author, "potiuk") for entry in entries):
            quiet.add(path.stem)
    return quiet


def test_no_reading_is_dangerous(score) -> None:  # type: ignore[no-untyped-def]
    assert score.dangerous == []


def test_floors(score) -> None:  # type: ignore[no-untyped-def]
    assert score.total >= 50
    assert score.rate(score.stance) >= 0.95, score.misses
    assert score.rate(score.question) >= 0.98, score.misses
    assert score.rate(score.awaited) >= 0.95, score.misses
