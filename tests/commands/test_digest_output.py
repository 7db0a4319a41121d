"""What the digest commands print: the shared module both `digest` and `digest --family` use."""
from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

import bot.commands.digest as digest_command
import bot.commands.family_digest as family_command
from bot.commands.digest_output import report_outcome, wants_posting
from bot.core.digest_publication import PostedDigest
from bot.core.settings import RepoSettings
from bot.github.batch import PublishOutcome


def imported_modules(module: object) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_the_two_digest_commands_do_not_import_each_other() -> None:
    assert "bot.commands.digest" not in imported_modules(family_command)
    assert "bot.commands.family_digest" in imported_modules(digest_command)  # one direction only
    assert "bot.commands.digest_output" in imported_modules(family_command) & imported_modules(digest_command)


def posted(comment_id: int) -> PostedDigest:
    return PostedDigest(comment_id=comment_id, node_id=f"IC_{comment_id}", week="2026-W48", figures=None, minimized=None)


def test_a_race_lost_is_reported_as_the_other_runs_comment_kept(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = PublishOutcome(posted=None, kept=posted(40), removed_duplicates=(41,), minimized=(12, 30))
    report_outcome(outcome, "2026-W48 family digest", "apache/widget#7")
    assert capsys.readouterr().out.splitlines() == [
        "another run posted the 2026-W48 family digest on apache/widget#7 first (comment 40); kept that one",
        "removed duplicate digests: 41",
        "minimized earlier digests: 12, 30",
    ]


@pytest.mark.parametrize(
    ("post", "dry_run", "configured_dry_run", "expected"),
    [(True, False, False, True), (True, True, False, False), (False, False, False, False), (True, False, True, False)],
)
def test_posting_needs_post_and_neither_dry_run(
    post: bool, dry_run: bool, configured_dry_run: bool, expected: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(post=post, dry_run=dry_run)
    assert wants_posting(args, RepoSettings(dry_run=configured_dry_run)) is expected
    assert ("sets dry_run" in capsys.readouterr().err) is (post and not dry_run and configured_dry_run)
