"""bench/chaos.py, small: a scripted review through a real `serve` that is killed twice while
GitHub answers 5xx, rate-limits, duplicates and reorders; nothing lost, nothing done twice."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("database, instances", [("sqlite", "1"), ("postgres", "2")])
def test_a_small_chaos_run_loses_nothing_and_doubles_nothing(database: str, instances: str, request: pytest.FixtureRequest) -> None:
    if database == "postgres":
        request.getfixturevalue("postgres_server")  # skips (or fails under CI) without PostgreSQL
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "chaos.py"), "--database", database, "--instances", instances,
         "--deliveries", "50", "--rate-limit-seconds", "3", "--seed", "5",
         "--takeover-seconds", "8"],  # shorter than the default 30 s: a harsher test, and 40 s less wait
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "lost 0, doubled 0" in result.stdout
    table = result.stdout.split("doubled\n", 1)[1]
    assert "notices" in table and "answers" in table  # the effects were counted, not skipped

