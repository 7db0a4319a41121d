"""Record validation, the import merge and the title heuristic (pure, no YAML)."""
from __future__ import annotations

import copy

import pytest

from bot.core.model import Question, QuestionState, Span
from bot.core.records import (
    DOCUMENT_OWNED,
    SCHEMA_VERSION,
    RecordError,
    Status,
    canonical_question_id,
    derive_title,
    merge_import,
    new_record_mapping,
    question_sort_key,
    record_filename,
    validate_record,
)


def question(**overrides) -> Question:
    values = dict(
        id="Q9",
        wave="Wave 3 — guests and boundaries",
        span=Span(40, 46),
        text="Guest workloads — confirm that timing channels between tenants are out of scope?",
        proposed_answer="yes, out of scope",
        maps_to=("§3 item 5", "§9"),
        state=QuestionState.OPEN,
    )
    values.update(overrides)
    return Question(**values)


def full_record() -> dict:
    mapping = new_record_mapping(question(), "draft-THREAT-MODEL.md")
    mapping.update(
        status="answered",
        awaiting=["reviewer-b"],
        answers=[
            {
                "author": "reviewer-a",
                "association": "MEMBER",
                "stance": "confirm",
                "excerpt": "timing channels are not ours to defend",
                "url": "https://github.com/o/r/pull/1#discussion_r5",
                "at": "2026-06-11T09:12:00Z",
                "binding": True,
                "comment_id": 5,
                "source": "github",
                "asks": ["reviewer-b"],
            }
        ],
        proposals=[{"id": "Q9-promote-c5", "kind": "promote", "state": "proposed", "summary": "flip tags", "comment_id": 5}],
        followups=[{"title": "Write a test", "kind": "test", "url": None, "number": None, "state": "proposed"}],
        thread={"comment_id": 4, "node_id": "PRRT_x", "path": "draft-THREAT-MODEL.md", "line": 40, "bot_comment_id": 6},
        updated_at="2026-06-11T09:12:00Z",
    )
    return mapping


def test_a_full_record_becomes_a_typed_record() -> None:
    record = validate_record(full_record(), "questions/Q09.yaml")
    assert record.id == "Q9"
    assert record.status is Status.ANSWERED
    assert record.lines == (40, 46)
    assert record.maps_to == ("§3 item 5", "§9")
    assert record.awaiting == ("reviewer-b",)
    assert record.answers[0].binding is True
    assert record.answers[0].asks == ("reviewer-b",)
    assert record.proposals[0].state.value == "proposed"
    assert record.followups[0].kind == "test"
    assert record.thread is not None and record.thread.node_id == "PRRT_x"
    assert record.schema == SCHEMA_VERSION


def test_unknown_keys_are_allowed() -> None:
    mapping = full_record()
    mapping["reviewer_notes"] = "kept as is"
    assert validate_record(mapping, "Q09.yaml").id == "Q9"


@pytest.mark.parametrize(
    ("mutate", "key_path", "fragment"),
    [
        (lambda m: m.pop("id"), (), "missing required key `id`"),
        (lambda m: m.update(status="done"), ("status",), "unknown value 'done'"),
        (lambda m: m.update(schema=SCHEMA_VERSION + 1), ("schema",), "newer than this bot understands"),
        (lambda m: m.update(maps_to="§9"), ("maps_to",), "expected a list"),
        (lambda m: m.update(lines=[46, 40]), ("lines",), "expected [first, last]"),
        (lambda m: m["answers"][0].update(stance="maybe"), ("answers", 0, "stance"), "unknown value 'maybe'"),
        (lambda m: m["answers"][0].update(binding="yes"), ("answers", 0, "binding"), "expected true or false"),
        (lambda m: m["answers"][0].update(comment_id="5"), ("answers", 0, "comment_id"), "expected a whole number"),
        (lambda m: m["proposals"][0].update(state="pending"), ("proposals", 0, "state"), "unknown value 'pending'"),
        (lambda m: m["followups"][0].update(kind="chore"), ("followups", 0, "kind"), "unknown value 'chore'"),
        (lambda m: m.update(document_state="closed"), ("document_state",), "unknown value 'closed'"),
        (lambda m: m.update(awaiting=[""]), ("awaiting", 0), "expected non-empty text"),
    ],
)
def test_malformed_records_name_the_offending_key_and_its_line(mutate, key_path, fragment) -> None:
    mapping = full_record()
    mutate(mapping)
    asked: list[tuple] = []

    def line_of(path: tuple) -> int | None:
        asked.append(path)
        return 100 + len(path)  # a recognisable line per depth

    with pytest.raises(RecordError) as raised:
        validate_record(mapping, "questions/Q09.yaml", line_of)
    error = raised.value
    assert fragment in error.message
    assert error.path == "questions/Q09.yaml"
    assert asked[0] == key_path
    assert error.line == 100 + len(key_path)
    assert str(error).startswith(f"questions/Q09.yaml:{error.line}: ")


def test_line_falls_back_to_the_enclosing_key() -> None:
    mapping = full_record()
    mapping["answers"][0]["stance"] = "maybe"
    lines = {("answers",): 20}
    with pytest.raises(RecordError) as raised:
        validate_record(mapping, "Q09.yaml", lambda path: lines.get(path))
    assert raised.value.line == 20


def test_a_record_that_is_not_a_mapping_is_rejected() -> None:
    with pytest.raises(RecordError, match="expected a mapping"):
        validate_record(["not", "a", "record"], "Q09.yaml")  # type: ignore[arg-type]


def test_new_record_is_valid_and_open() -> None:
    mapping = new_record_mapping(question(), "doc.md")
    record = validate_record(mapping, "Q09.yaml")
    assert record.status is Status.OPEN
    assert record.document == "doc.md"
    assert record.title == "Guest workloads"
    assert list(mapping)[:4] == ["schema", "id", "document", "wave"]


def test_merge_import_updates_document_fields_and_keeps_workflow_fields() -> None:
    mapping = full_record()
    mapping["title"] = "Our own title"
    workflow_before = {key: copy.deepcopy(value) for key, value in mapping.items() if key not in DOCUMENT_OWNED}
    moved = question(span=Span(50, 57), text="Guest workloads — is cross-tenant timing out of scope?", state=QuestionState.RESOLVED)

    assert merge_import(mapping, moved, "draft-THREAT-MODEL.md") is True
    assert mapping["lines"] == [50, 57]
    assert mapping["question"] == "Guest workloads — is cross-tenant timing out of scope?"
    assert mapping["document_state"] == "resolved"
    assert {key: value for key, value in mapping.items() if key not in DOCUMENT_OWNED} == workflow_before
    assert merge_import(mapping, moved, "draft-THREAT-MODEL.md") is False  # twice changes nothing


def test_merge_import_fills_a_missing_title_only() -> None:
    mapping = full_record()
    del mapping["title"]
    assert merge_import(mapping, question(), "draft-THREAT-MODEL.md") is True
    assert mapping["title"] == "Guest workloads"
    mapping["title"] = "Kept"
    assert merge_import(mapping, question(), "draft-THREAT-MODEL.md") is False
    assert mapping["title"] == "Kept"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("**Most important one.** Are the relay defaults shipped open?", "Are the relay defaults shipped open"),
        ("Confirm that the parser never follows symlinks outside the root.", "The parser never follows symlinks outside the root"),
        ("Token lifetime — proposed: five minutes. Confirm.", "Token lifetime"),
        (
            "Is a worker with a valid enrolment certificate and a stolen session cookie and a forged header trusted",
            "Is a worker with a valid enrolment certificate and a stolen…",
        ),
    ],
)
def test_derive_title(text: str, title: str) -> None:
    assert derive_title(text) == title
    assert len(derive_title(text)) <= 60


def test_question_ids_compare_and_sort_naturally() -> None:
    assert canonical_question_id("Q09") == canonical_question_id("q9") == "Q9"
    assert canonical_question_id("Q14.r1") == "Q14.R1"
    assert sorted(["Q10", "Q2", "Q1"], key=question_sort_key) == ["Q1", "Q2", "Q10"]
    assert record_filename("Q8") == "Q08.yaml"
