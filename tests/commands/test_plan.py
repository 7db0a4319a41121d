"""`python -m bot plan`: run through the real dispatcher over a temporary folder of records."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.__main__ import main

DOCUMENT = textwrap.dedent(
    """\
    # Gull Threat Model (draft)

    ## §1 Header

    - **Draft confidence (provenance-tag tally):** 0 *(documented)* / 0 *(maintainer)* / 2 *(inferred)*.

    ## §5 Assumptions about the environment

    - Workers share one clock source *(inferred — §14 Q1)*.
    - The job queue is reachable only from the control network *(inferred — §14 Q2)*.

    ## §14 Open questions for the maintainers

    **Q1.** Do workers share one clock source? *(maps to §5)*

    **Q2.** Is the job queue reachable only from the control network? *(maps to §5)*
    """
)


def record_yaml(question_id: str, status: str, stance: str, excerpt: str) -> str:
    return textwrap.dedent(
        f"""\
        schema: 1
        id: {question_id}
        document: GULL.md
        title: {question_id}
        question: "..."
        maps_to: ["§5"]
        document_state: open
        status: {status}
        awaiting: []
        answers:
          - author: ingrid
            association: MEMBER
            stance: {stance}
            excerpt: "{excerpt}"
            url: https://github.com/example/gull/pull/3#discussion_r5
            at: "2026-06-20T10:00:00Z"
            binding: true
            comment_id: 5
            source: github
        """
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "GULL.md").write_text(DOCUMENT, encoding="utf-8")
    questions = tmp_path / "questions"
    questions.mkdir()
    (questions / "Q01.yaml").write_text(record_yaml("Q1", "confirmed", "confirm", "yes, NTP on every host"), encoding="utf-8")
    (questions / "Q02.yaml").write_text(
        record_yaml("Q2", "corrected", "correct", "no, it also listens on the tenant network"), encoding="utf-8"
    )
    return tmp_path


def run_plan(workspace: Path, *extra: str) -> int:
    return main(["plan", str(workspace / "GULL.md"), "--questions", str(workspace / "questions"), *extra])


def test_prints_the_diff_and_the_list_for_humans_without_writing(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_plan(workspace) == 0
    out = capsys.readouterr().out
    path = workspace / "GULL.md"
    assert out.startswith(f"--- a/{path}\n+++ b/{path}\n")
    assert "+- Workers share one clock source *(maintainer: ingrid — §14 Q1)*.\n" in out
    assert "1 tag(s) promoted; resolved: Q1; folded: Q1\n" in out
    assert "- [correction] line 16: Q2 was corrected by ingrid" in out
    assert '    ingrid: "no, it also listens on the tenant network" (https://github.com/example/gull/pull/3#discussion_r5)\n' in out
    assert path.read_text(encoding="utf-8") == DOCUMENT


def test_write_applies_the_plan_once(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_plan(workspace, "--write") == 0
    written = (workspace / "GULL.md").read_text(encoding="utf-8")
    assert "*(maintainer: ingrid — §14 Q1)*" in written
    assert "**Q1.** ~~Do workers share one clock source?~~ **RESOLVED** *(maintainer: ingrid)* — yes, NTP on every host." in written
    assert "0 *(documented)* / 1 *(maintainer)* / 1 *(inferred)*" in written
    capsys.readouterr()

    assert run_plan(workspace, "--write") == 0
    out = capsys.readouterr().out
    assert "no change to the document" in out and "wrote" not in out
    assert (workspace / "GULL.md").read_text(encoding="utf-8") == written


def test_only_limits_the_plan(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_plan(workspace, "--only", "Q2") == 0
    out = capsys.readouterr().out
    assert "0 tag(s) promoted; resolved: none; folded: none" in out
    assert "[correction]" in out


@pytest.mark.parametrize(
    ("retire", "expected"),
    [("mark", "**Q1.** Do workers share one clock source? **RESOLVED** *(maintainer: ingrid)*"), ("remove", None)],
)
def test_retire_chooses_how_the_folded_question_leaves_section_14(
    workspace: Path, capsys: pytest.CaptureFixture[str], retire: str, expected: str | None
) -> None:
    assert run_plan(workspace, "--retire", retire, "--write") == 0
    written = (workspace / "GULL.md").read_text(encoding="utf-8")
    assert "*(maintainer: ingrid — §14 Q1)*" in written
    assert "~~" not in written
    if expected is None:
        assert "Do workers share one clock source?" not in written
        assert "**Q2.** Is the job queue reachable only from the control network?" in written
    else:
        assert expected in written


def test_malformed_record_is_a_clear_error_with_file_and_line(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = workspace / "questions" / "Q01.yaml"
    bad.write_text(record_yaml("Q1", "confirmed", "confirm", "yes").replace("status: confirmed", "status: maybe"))
    assert run_plan(workspace) == 2
    err = capsys.readouterr().err
    assert f"{bad}:8:" in err and "status" in err


def test_missing_records_folder_is_an_error(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(workspace / "GULL.md"), "--questions", str(workspace / "nowhere")]) == 1
    assert f"plan: no such folder: {workspace / 'nowhere'}" in capsys.readouterr().err


def test_runs_as_a_module(workspace: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "plan", "GULL.md", "--only", "Q1"],
        cwd=workspace,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("--- a/GULL.md\n+++ b/GULL.md\n")
