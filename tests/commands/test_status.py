"""`python -m bot status`: tables per wave and the JSON list, over the shipped records."""
from __future__ import annotations

import json
from pathlib import Path

from bot.__main__ import main
from bot.core.answers import add_followup, apply_reading
from bot.core.reader_output import AnswerReading, Reading, Stance
from bot.store.folder import FolderStore

FIXTURE = Path(__file__).parent.parent / "fixtures" / "documents" / "cloudstack-shaped.md"
SHIPPED = Path(__file__).resolve().parents[2] / "questions"
NOW = "2026-07-05T12:00:00Z"


def prepared(tmp_path: Path) -> Path:
    """The fixture imported, then Q3 (open in the document) answered by a maintainer with an awaited colleague."""
    questions = tmp_path / "questions"
    main(["import", str(FIXTURE), "--questions", str(questions)])
    store = FolderStore(questions)
    mapping = store.get("Q3")
    read = Reading("Q3", (Stance.CONFIRM,), (AnswerReading("Q3", Stance.CONFIRM, "yes"),), ("maint-b",), (), (), True, 1.0, False)
    apply_reading(mapping, read, author="maint-a", association="MEMBER", is_maintainer=True, comment_id=5, url=None, at="2026-06-30T12:00:00Z")
    add_followup(mapping, "Write the regression test", "test")
    store.save(mapping)
    return questions


def test_json_lists_every_question_with_age_and_awaiting(tmp_path: Path, capsys) -> None:
    questions = prepared(tmp_path)
    capsys.readouterr()
    assert main(["status", "--questions", str(questions), "--json", "--now", NOW]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in rows][:3] == ["Q1", "Q2", "Q3"]
    q3 = next(row for row in rows if row["id"] == "Q3")
    assert q3["status"] == "answered"
    assert q3["awaiting"] == ["maint-b"]
    assert q3["last_answer_age_days"] == 5
    assert q3["open_followups"] == ["Write the regression test"]
    q5 = next(row for row in rows if row["id"] == "Q5")
    assert q5["last_answer_at"] is None and q5["status"] == "open"
    q1 = next(row for row in rows if row["id"] == "Q1")
    assert q1["status"] == "folded"  # resolved in the document already


def test_table_groups_questions_by_wave(tmp_path: Path, capsys) -> None:
    questions = prepared(tmp_path)
    capsys.readouterr()
    assert main(["status", "--questions", str(questions), "--now", NOW]) == 0
    out = capsys.readouterr().out
    waves = [line for line in out.splitlines() if line.startswith("Wave ")]
    assert waves == sorted(waves, key=lambda wave: int(wave.split()[1]))
    assert len(waves) == 3
    q3_line = next(line for line in out.splitlines() if line.startswith("Q3 "))
    assert "answered" in q3_line and "maint-b" in q3_line and "5d ago" in q3_line and "Write the regression test" in q3_line
    assert out.rstrip().splitlines()[-1].startswith("12 questions:")


def test_status_of_the_shipped_cloudstack_records(capsys) -> None:
    assert main(["status", "--questions", str(SHIPPED), "--json", "--now", NOW]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) >= {f"Q{number}" for number in range(8, 39)}
    assert rows["Q37"]["status"] == "open"
    assert rows["Q9"]["status"] == "answered" and rows["Q9"]["awaiting"] == ["DaanHoogland"]
    settled = {row["status"] for question_id, row in rows.items() if question_id not in ("Q9", "Q37")}
    assert settled <= {"confirmed", "corrected"}
    assert rows["Q27"]["status"] == "corrected" and rows["Q36"]["status"] == "corrected"
    assert rows["Q4"]["open_followups"] == ["Re-test the download-link expiry (TTL) in code"]
    assert rows["Q5"]["open_followups"] == ["Set up a dependency-update procedure for the vendored noVNC fork"]


def test_a_malformed_record_is_reported(tmp_path: Path, capsys) -> None:
    questions = prepared(tmp_path)
    (questions / "Q04.yaml").write_text("schema: 1\nid: Q4\n", encoding="utf-8")
    assert main(["status", "--questions", str(questions)]) == 2
    assert "Q04.yaml" in capsys.readouterr().err


def test_a_pr_folder_of_the_service_points_to_its_questions_subfolder(tmp_path: Path, capsys) -> None:
    pull = tmp_path / "repos" / "apache" / "cloudstack" / "pulls" / "1"
    (pull / "questions").mkdir(parents=True)
    (pull / "state.json").write_text("{}")
    assert main(["status", "--questions", str(pull)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"{pull}: no question records (a PR's records are in {pull / 'questions'}: " \
                          f"pass --questions {pull / 'questions'})"
