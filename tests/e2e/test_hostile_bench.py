"""bench/hostile.py's fast subset: the attacks it replays hold against the real service."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "hostile.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_hostile", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_hostile"] = module
    spec.loader.exec_module(module)
    return module


async def test_the_fast_subset_of_hostile_attacks_holds() -> None:
    bench = _bench()
    names = ["YAML bomb in settings", "500 /ask logins", "--> and <img> in a follow-up title", "document: '**/*'"]
    rows = await bench.main_async(names, fast=True, memory=False)
    assert [row.attack for row in rows] == names
    assert all(row.outcome == "held" for row in rows), [(row.attack, row.outcome, row.checked) for row in rows]
    by_name = {row.attack: row for row in rows}
    assert by_name["500 /ask logins"].api_calls <= 2 * (3 + 2 * bench.LOGINS_PER_COMMENT) + 3
