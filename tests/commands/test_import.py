"""`python -m bot import`: create, re-run without changes, refuse bad input without writing."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.store.folder import FolderStore

FIXTURE = Path(__file__).parent.parent / "fixtures" / "documents" / "cloudstack-shaped.md"
REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = REPO_ROOT / "questions"
REAL_DOCUMENT = Path("/work/shared/corpus/threat-models/cloudstack--draft-THREAT-MODEL@0a0e38aa.md")


def files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.glob("*"))}


def test_import_then_import_again_reports_all_unchanged(tmp_path: Path, capsys) -> None:
    questions = tmp_path / "questions"
    assert main(["import", str(FIXTURE), "--questions", str(questions), "--as", "draft-THREAT-MODEL.md"]) == 0
    first = capsys.readouterr().out
    assert "created Q1" in first and "12 created, 0 updated, 0 unchanged" in first
    before = files(questions)

    assert main(["import", str(FIXTURE), "--questions", str(questions)]) == 0
    second = capsys.readouterr().out
    assert "0 created, 0 updated, 12 unchanged" in second
    assert files(questions) == before
    assert {record.document for record in FolderStore(questions).records()} == {"draft-THREAT-MODEL.md"}


def test_a_document_without_section_14_is_refused(tmp_path: Path, capsys) -> None:
    document = tmp_path / "notes.md"
    document.write_text("# Notes\n\n## §1 Header\n\nNothing to ask here.\n", encoding="utf-8")
    questions = tmp_path / "questions"
    assert main(["import", str(document), "--questions", str(questions)]) == 1
    assert str(document) in capsys.readouterr().err
    assert not questions.exists()


def test_a_malformed_record_stops_the_import_with_file_and_line(tmp_path: Path, capsys) -> None:
    questions = tmp_path / "questions"
    main(["import", str(FIXTURE), "--questions", str(questions)])
    capsys.readouterr()
    bad = questions / "Q03.yaml"
    lines = bad.read_text(encoding="utf-8").splitlines()
    number = next(index for index, line in enumerate(lines) if line.startswith("answers:")) + 1
    lines[number - 1] = "answers: not-a-list"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (questions / "Q01.yaml").unlink()  # import would recreate it, but must write nothing
    before = files(questions)

    assert main(["import", str(FIXTURE), "--questions", str(questions)]) == 2
    error = capsys.readouterr().err
    assert f"{bad}:{number}:" in error and "nothing written" in error
    assert files(questions) == before


@pytest.mark.skipif(not REAL_DOCUMENT.exists(), reason="the shared corpus is not available")
def test_the_shipped_records_are_up_to_date_with_the_real_document(tmp_path: Path, capsys) -> None:
    questions = tmp_path / "questions"
    shutil.copytree(SHIPPED, questions)
    before = files(questions)
    assert main(["import", str(REAL_DOCUMENT), "--questions", str(questions)]) == 0
    assert "0 created, 0 updated, 38 unchanged" in capsys.readouterr().out
    assert files(questions) == before
