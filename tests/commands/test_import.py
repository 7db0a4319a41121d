"""`python -m bot import`: create, re-run without changes, refuse bad input without writing."""
from __future__ import annotations

import shutil
from pathlib import Path

from bot.__main__ import main
from bot.store.folder import FolderStore
from corpus import CLOUDSTACK_DOCUMENT, corpus_file

FIXTURE = Path(__file__).parent.parent / "fixtures" / "documents" / "cloudstack-shaped.md"
REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = REPO_ROOT / "questions"


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


def test_the_shipped_records_are_up_to_date_with_the_real_document(tmp_path: Path, capsys) -> None:
    real_document = corpus_file(CLOUDSTACK_DOCUMENT)
    questions = tmp_path / "questions"
    shutil.copytree(SHIPPED, questions)
    before = files(questions)
    assert main(["import", str(real_document), "--questions", str(questions)]) == 0
    assert "0 created, 0 updated, 38 unchanged" in capsys.readouterr().out
    assert files(questions) == before


ANSWERED_IN_PLACE = Path(__file__).parent.parent / "fixtures" / "documents" / "dialects" / "arrow-answers.md"


def test_answers_written_in_the_document_are_imported_as_answers(tmp_path: Path, capsys) -> None:
    questions = tmp_path / "questions"
    assert main(["import", str(ANSWERED_IN_PLACE), "--questions", str(questions)]) == 0
    records = {record.id: record for record in FolderStore(questions).records()}
    answered = records["Q1"]
    assert answered.status.value == "answered" and answered.document_state == "answered"
    (answer,) = answered.answers
    assert (answer.source, answer.author, answer.binding) == ("document", "quillon", False)
    assert answer.excerpt.startswith("Confirmed.") and len(answer.excerpt) <= 400
    assert records["Q3"].status.value == "open" and records["Q3"].answers == ()
    before = files(questions)

    assert main(["import", str(ANSWERED_IN_PLACE), "--questions", str(questions)]) == 0
    assert "0 created, 0 updated, 3 unchanged" in capsys.readouterr().out
    assert files(questions) == before


def test_an_answer_added_to_the_document_later_reaches_an_open_record(tmp_path: Path) -> None:
    document = tmp_path / "model.md"
    asked = "# Model\n\n## §14 Open questions\n\n- **Q1.** Is the relay trusted?\n"
    document.write_text(asked, encoding="utf-8")
    questions = tmp_path / "questions"
    assert main(["import", str(document), "--questions", str(questions)]) == 0
    document.write_text(asked + "  → **Yes.** Only inside the cluster network. *(maintainer: quillon)*\n", encoding="utf-8")
    assert main(["import", str(document), "--questions", str(questions)]) == 0
    (record,) = FolderStore(questions).records()
    assert record.status.value == "answered"
    assert [(answer.author, answer.source) for answer in record.answers] == [("quillon", "document")]


def test_import_prints_what_it_could_not_read_and_still_writes(tmp_path: Path, capsys) -> None:
    document = tmp_path / "model.md"
    document.write_text(
        "# Model\n\n## §14 Open questions\n\n**Q1.** Is the relay trusted?\n\n"
        "**Question two.** Is the cache shared?\n",
        encoding="utf-8",
    )
    assert main(["import", str(document), "--questions", str(tmp_path / "questions")]) == 0
    error = capsys.readouterr().err
    assert f"{document}:7: looks like a §14 question but has no id it accepts" in error


def test_import_warns_about_a_reply_it_cannot_tell_from_a_recommendation(tmp_path: Path, capsys) -> None:
    document = tmp_path / "model.md"
    document.write_text(
        "# Model\n\n## §14 Open questions\n\n**Q1.** Is the relay trusted? Yes.\n\n**Q2.** Is the cache shared?\n",
        encoding="utf-8",
    )
    assert main(["import", str(document), "--questions", str(tmp_path / "questions")]) == 0
    error = capsys.readouterr().err
    assert f"{document}:5: question ends in a reply with no answer marker; read as open" in error
    assert FolderStore(tmp_path / "questions").load()  # the questions are still written


def test_a_section_with_questions_but_no_ids_says_so(tmp_path: Path, capsys) -> None:
    document = tmp_path / "model.md"
    document.write_text(
        "# Model\n\n## §14 Open questions\n\nIs the relay trusted?\n\nIs the cache shared?\n", encoding="utf-8"
    )
    assert main(["import", str(document), "--questions", str(tmp_path / "questions")]) == 1
    error = capsys.readouterr().err
    assert f"{document}:5: §14 paragraph reads like a question but has no question id" in error
    assert "§14 has question-like lines but no question id this reader accepts" in error
    assert not (tmp_path / "questions").exists() or not any((tmp_path / "questions").iterdir())


def test_status_shows_who_answered_in_the_document(tmp_path: Path, capsys) -> None:
    questions = tmp_path / "questions"
    assert main(["import", str(ANSWERED_IN_PLACE), "--questions", str(questions)]) == 0
    capsys.readouterr()
    assert main(["status", "--questions", str(questions)]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line[:2] in ("Q1", "Q2", "Q3")}
    assert "answered (by quillon)" in lines["Q1"]
    assert "answered (in the document)" in lines["Q2"]  # the arrow answer names nobody
    assert " open " in lines["Q3"]
