"""`python -m bot demo`: the scripted review over the local GitHub and the real service."""
from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.core.document import parse_document
from bot.demo_review import (
    CONVERSATION,
    DOCUMENT_PATH,
    CloseFollowUp,
    StatusIs,
    Step,
    demo_document,
    run_demo,
)
from bot.sandbox import REPO
from bot.store.folder import FolderStore
from bot.store.pull_state import pull_directory, tracked_pulls


def test_the_demo_document_is_a_well_formed_threat_model() -> None:
    document = parse_document(demo_document(), DOCUMENT_PATH)
    assert [question.id for question in document.questions] == [f"Q{n}" for n in range(1, 13)]
    assert document.tally.disagreements == ()  # its stated tally matches its tags before the fold


def test_the_demo_plays_every_step_and_prints_what_happened(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo"])
    output = capsys.readouterr().out

    assert code == 0, output
    assert f"{len(CONVERSATION)} of {len(CONVERSATION)} steps did what they should" in output
    assert "✘" not in output
    # The fold's diff: the inferred tag of a confirmed question promoted in place.
    assert "-   *(inferred — §14 Q2)*." in output and "+   *(maintainer: daan — §14 Q2)*." in output
    # The follow-up issue, with its labels, closed by the last step.
    assert re.search(r"^#\d+  Re-test the download-link expiry  \[security, threat-model\]  closed$", output, re.MULTILINE)
    # The status table (the status command's renderer) and the digest headline.
    assert re.search(r"^Q10 +A compromised peer management server is game ov… +open +daan ", output, re.MULTILINE)
    assert "12 questions: 1 corrected, 8 folded, 3 open" in output
    assert "## Threat-model review digest — " in output and "**9 of 12 questions answered**" in output
    # Answers: the non-maintainer's reply is on record but not binding.
    assert re.search(r"^Q8 +passerby +confirm +not binding", output, re.MULTILINE)


def test_a_step_whose_expectation_fails_makes_the_demo_exit_1_and_the_rest_still_runs() -> None:
    confirm_q2 = CONVERSATION[2]
    wrong = replace(confirm_q2, expect=(StatusIs("Q2", "struck"),))
    unplayable = Step("vish", "closes an issue nobody opened", CloseFollowUp("no such follow-up"))
    out = io.StringIO()

    code = run_demo([*CONVERSATION[:2], wrong, unplayable, CONVERSATION[3]], quiet=True, out=out)

    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines[2].startswith("✘  3.") and "Q2 is confirmed, expected struck" in lines[3]
    assert any(line.startswith("✘  4.") for line in lines)
    assert any("could not play the step: LookupError" in line for line in lines)
    assert any(line.startswith("✔  5.") for line in lines)  # the script went on after the failures
    assert lines[-1].startswith("✘ 3 of 5 steps") and lines[-1].endswith("failed: 3, 4")


def test_state_dir_keeps_the_records_and_quiet_prints_only_the_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_dir = tmp_path / "demo-state"

    code = main(["demo", "--quiet", "--state-dir", str(state_dir)])
    output = capsys.readouterr().out

    assert code == 0, output
    assert "== Status ==" not in output and "digest" not in output
    step_lines = re.findall(r"^[✔✘] +\d+\. .*$", output, re.MULTILINE)
    assert len(step_lines) == len(CONVERSATION)
    ((repo, number),) = tracked_pulls(state_dir)
    assert repo == REPO
    records = FolderStore(pull_directory(state_dir, REPO, number) / "questions").load()
    assert records["Q4"]["status"] == "corrected" and records["Q4"]["followups"][0]["state"] == "closed"
