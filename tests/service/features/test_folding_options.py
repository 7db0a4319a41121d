"""folding.py's pure parts: which plan options a repository's settings choose, the commit message."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.core.planner import PlanOptions, ResolveStyle, plan_promotions
from bot.core.records import Answer, Record, Status
from bot.core.settings import RETIRE_STYLES, parse_settings
from bot.service.features.folding import commit_message, plan_options
from bot.service.features.tracked_pulls import TrackedPull
from bot.store.folder import FolderStore
from bot.store.pull_state import PullState

DOCUMENT = textwrap.dedent(
    """\
    # Egret Threat Model

    ## §3 Scope

    Only the daemon is in scope *(inferred — §14 Q1)*.

    ## §14 Open questions for the maintainers

    **Q1.** Is only the daemon in scope?

    **Q2.** Is the admin socket local only?
    """
)


def confirmed(question_id: str) -> Record:
    answer = Answer(author="daan", association="MEMBER", stance="confirm", excerpt="yes", binding=True)
    return Record(
        id=question_id, document="THREAT-MODEL.md", wave=None, title=question_id, question="...", proposed_answer=None,
        maps_to=(), document_state="open", lines=None, status=Status.CONFIRMED, answers=(answer,),
    )


@pytest.mark.parametrize("retire", RETIRE_STYLES)
def test_every_retire_setting_chooses_its_resolve_style(retire: str, tmp_path: Path) -> None:
    pull = TrackedPull(PullState("apache/egret", 7, document_path="docs/THREAT-MODEL.md"), FolderStore(tmp_path), {})
    options = plan_options(parse_settings({"retire": retire}), pull, frozenset({"Q1"}))
    assert options.resolve_style is ResolveStyle(retire)
    assert (options.only, options.path) == (frozenset({"Q1"}), "docs/THREAT-MODEL.md")


@pytest.mark.parametrize(
    ("style", "retired"),
    [
        (ResolveStyle.STRIKE, "1 questions marked resolved"),
        (ResolveStyle.REMOVE, "1 answered questions removed from §14"),
    ],
)
def test_the_commit_message_says_how_the_questions_left_section_14(style: ResolveStyle, retired: str) -> None:
    plan = plan_promotions(DOCUMENT, [confirmed("Q1")], PlanOptions(resolve_style=style))
    assert commit_message(plan, 7) == (
        "Fold maintainer answers into the threat model (Q1)\n\n"
        f"1 inferred tags promoted to maintainer and {retired}, as accepted in the review of PR #7."
    )
