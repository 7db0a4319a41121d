"""`python -m bot explain`, driven through the real CLI entry point."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.core.reader import HELP_TEXT

JSON_KEYS = {"question", "stances", "awaiting", "followups", "answers", "binding", "confidence"}


def explain(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], body: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(body))
    code = main(["explain", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_reading_of_a_maintainers_bulk_reply(monkeypatch, capsys) -> None:
    body = "Q8: confirm\nQ9 - correct: the limit applies per project\n/ask @erin Q10\n"
    code, out, _ = explain(monkeypatch, capsys, body, "--author", "maint", "--association", "MEMBER", "--json")
    assert code == 0
    reading = json.loads(out)
    assert set(reading) == JSON_KEYS
    assert reading["binding"] is True and reading["confidence"] == 1.0
    assert reading["stances"] == ["confirm", "correct", "delegate"]
    assert reading["awaiting"] == ["erin"]
    assert reading["answers"][1] == {"question": "Q9", "stance": "correct", "text": "the limit applies per project"}


def test_association_decides_binding_by_default(monkeypatch, capsys) -> None:
    _, out, _ = explain(monkeypatch, capsys, "/confirm Q8", "--association", "CONTRIBUTOR", "--json")
    assert json.loads(out)["binding"] is False


def test_an_explicit_maintainer_list_overrides_the_association(monkeypatch, capsys) -> None:
    args = ("--author", "Dana", "--association", "NONE", "--maintainers", "erin, dana", "--json")
    _, out, _ = explain(monkeypatch, capsys, "/confirm Q8", *args)
    assert json.loads(out)["binding"] is True
    _, out, _ = explain(monkeypatch, capsys, "/confirm Q8", "--author", "zed", "--association", "OWNER", "--maintainers", "erin", "--json")
    assert json.loads(out)["binding"] is False


def test_free_text_in_an_anchored_thread_is_a_proposal(monkeypatch, capsys) -> None:
    body = "Yes for the agents. @erin can you confirm the router side?"
    _, out, _ = explain(monkeypatch, capsys, body, "--question", "q07", "--association", "OWNER", "--json")
    reading = json.loads(out)
    assert reading["question"] == "Q7"
    assert reading["stances"] == ["confirm", "delegate"]
    assert reading["awaiting"] == ["erin"]
    assert reading["binding"] is False and reading["confidence"] < 1


def test_human_readable_output_names_what_was_understood(monkeypatch, capsys) -> None:
    body = "/strike Q8\n/followup Q8 Drop the legacy listener from the docs\n/questions help\n"
    code, out, _ = explain(monkeypatch, capsys, body, "--author", "maint", "--association", "COLLABORATOR")
    assert code == 0
    assert "Binding: yes" in out
    assert "Q8 strike" in out
    assert "Follow-up proposed for Q8: Drop the legacy listener from the docs" in out
    assert "Command (line 1): /strike Q8" in out
    assert HELP_TEXT in out  # /questions help answers with the help


def test_known_questions_come_from_record_file_names(monkeypatch, capsys, tmp_path: Path) -> None:
    for name in ("Q08.yaml", "Q09.yaml", "Q14.R1.yaml", "README.md"):
        (tmp_path / name).write_text("not parsed\n", encoding="utf-8")
    body = "/confirm Q8\n/confirm Q14.r1\n/confirm Q40\n"
    _, out, _ = explain(monkeypatch, capsys, body, "--questions", str(tmp_path), "--association", "MEMBER")
    assert "Q8 confirm" in out and "Q14.R1 confirm" in out
    assert "Not tracked: Q40" in out


def test_any_question_id_is_known_without_a_records_folder(monkeypatch, capsys) -> None:
    _, out, _ = explain(monkeypatch, capsys, "Q123: yes", "--json")
    assert json.loads(out)["answers"] == [{"question": "Q123", "stance": "confirm", "text": "yes"}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--question", "seven"), "not a question id"),
        (("--question", "Q3", "--questions", "{folder}"), "not among the known questions"),
    ],
)
def test_bad_arguments_exit_2_with_a_reason(monkeypatch, capsys, tmp_path: Path, args, message) -> None:
    (tmp_path / "Q08.yaml").write_text("", encoding="utf-8")
    filled = [arg.format(folder=tmp_path, missing=tmp_path / "nope") for arg in args]
    code, out, err = explain(monkeypatch, capsys, "yes", *filled)
    assert code == 2 and out == ""
    assert message in err


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [("Q-clienttrust", "Q-clienttrust"), ("Q14.1", "Q14.1"), ("q5a", "Q5a"), ("**Q8.**", "Q8"), ("question 5", "Q5"), ("7", "Q7"), ("8a.", "Q8a")],
)
def test_question_accepts_every_id_form_the_documents_use(monkeypatch, capsys, spelling: str, canonical: str) -> None:
    _, out, _ = explain(monkeypatch, capsys, "yes", "--question", spelling, "--json")
    assert json.loads(out)["question"] == canonical


def test_an_unclear_bulk_line_says_so_and_binds_nothing(monkeypatch, capsys) -> None:
    _, out, _ = explain(monkeypatch, capsys, "Q9: correct - the agents run it too", "--association", "MEMBER")
    assert "Stances: unclear" in out and "Binding: no" in out and "/confirm Q9" in out
