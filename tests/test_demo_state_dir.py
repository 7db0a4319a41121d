"""`demo --state-dir X` twice: the second run starts X afresh, says so, and passes every step;
a folder the demo did not make is refused and left as it was."""
from __future__ import annotations

import io
from pathlib import Path

from bot.__main__ import main
from bot.demo_review import CONVERSATION, DEMO_MARK, run_demo


def test_a_second_run_on_the_same_state_dir_starts_afresh_and_passes(tmp_path: Path) -> None:
    state = tmp_path / "demo-state"
    first, second = io.StringIO(), io.StringIO()
    assert run_demo(state_dir=state, quiet=True, out=first) == 0, first.getvalue()
    assert (state / DEMO_MARK).exists() and (state / "inbox.sqlite3").exists()

    assert run_demo(state_dir=state, quiet=True, out=second) == 0, second.getvalue()
    lines = second.getvalue().splitlines()
    assert lines[0] == f"demo: {state} held an earlier demo's state; starting it afresh"
    assert f"✔ {len(CONVERSATION)} of {len(CONVERSATION)} steps did what they should" in second.getvalue()


def test_a_folder_the_demo_did_not_make_is_refused_and_untouched(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    assert main(["demo", "--quiet", "--state-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (f"demo: {tmp_path} is not empty and was not made by the demo; "
                                               "give --state-dir a new or empty folder")
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_a_file_is_refused(tmp_path: Path, capsys) -> None:
    (tmp_path / "state").write_text("")
    assert main(["demo", "--state-dir", str(tmp_path / "state")]) == 2
    assert "is a file" in capsys.readouterr().err
