"""`digest` without --repo/--pr renders from local records: no GitHub, no credentials."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def digest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("GITHUB_", "BOT_"))}
    env["GITHUB_API_URL"] = "http://127.0.0.1:9"  # were it asked, GitHub would be unreachable: the run would fail
    return subprocess.run([sys.executable, "-m", "bot", "digest", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_shipped_records_render_a_digest_without_github() -> None:
    result = digest("--questions", "questions", "--now", "2026-07-06T09:00:00Z")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("<!-- threat-model-bot:digest week=2026-W28 ")
    assert "## Threat-model review digest — 2026-W28" in lines
    assert any(line.startswith("**37 of 38 questions answered**") for line in lines)
    # Q9 is awaited on DaanHoogland, who answered as a maintainer: the one person mentioned.
    assert "- @DaanHoogland — 1 question:" in lines
    assert result.stdout.count("@") == result.stdout.count("@DaanHoogland")


def test_a_local_document_gives_the_provenance_tally(tmp_path: Path) -> None:
    document = tmp_path / "draft-THREAT-MODEL.md"
    document.write_text((ROOT / "bot" / "demo_data" / "draft-THREAT-MODEL.md").read_text(encoding="utf-8"))
    without = digest("--questions", "questions", "--now", "2026-07-06T09:00:00Z")
    with_document = digest("--questions", "questions", "--document", str(document), "--now", "2026-07-06T09:00:00Z")
    assert with_document.returncode == 0, with_document.stderr
    assert "there is no tally" in without.stdout and "there is no tally" not in with_document.stdout


def test_posting_needs_a_pull_request() -> None:
    result = digest("--questions", "questions", "--post")
    assert result.returncode == 2
    assert result.stderr.strip() == "digest: --post, --family and --state-dir need --repo and --pr"
