"""bench/hostile.py's fast subset: the attacks it replays hold against the real service."""
from __future__ import annotations

from bench_modules import load_bench


async def test_the_fast_subset_of_hostile_attacks_holds() -> None:
    bench = load_bench("hostile")
    names = ["YAML bomb in settings", "500 /ask logins", "--> and <img> in a follow-up title", "document: '**/*'"]
    rows = await bench.main_async(names, fast=True, memory=False)
    assert [row.attack for row in rows] == names
    assert all(row.outcome == "held" for row in rows), [(row.attack, row.outcome, row.checked) for row in rows]
    by_name = {row.attack: row for row in rows}
    assert by_name["500 /ask logins"].api_calls <= 2 * (3 + 2 * bench.LOGINS_PER_COMMENT) + 3
