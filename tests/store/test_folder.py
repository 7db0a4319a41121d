"""FolderStore: round-trip YAML, validation with file:line, atomic writes, import merging."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.answers import apply_reading, mark_folded
from bot.core.document import parse_document
from bot.core.model import DocumentError
from bot.core.planner import PlanOptions, ResolveStyle, plan_promotions
from bot.core.reader_output import AnswerReading, Reading, Stance
from bot.core.records import RecordError, Status
from bot.store.folder import FolderStore, dump_record, load_record_text, load_records

FIXTURE = Path(__file__).parent.parent / "fixtures" / "documents" / "cloudstack-shaped.md"


@pytest.fixture()
def document():
    return parse_document(FIXTURE.read_text(encoding="utf-8"), "draft-THREAT-MODEL.md")


@pytest.fixture()
def store(tmp_path: Path) -> FolderStore:
    return FolderStore(tmp_path / "questions")


def snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_import_creates_one_valid_file_per_question(store: FolderStore, document) -> None:
    result = store.import_document(document)
    ids = [question.id for question in document.questions]
    assert result.created == tuple(ids)
    assert sorted(path.name for path in store.directory.glob("*.yaml")) == sorted(f"Q{int(i[1:]):02d}.yaml" for i in ids)
    loaded = store.load()
    assert list(loaded) == ids  # sorted naturally: Q2 before Q10
    # Open, unless the document already shows the question resolved: then it is folded, with
    # the answer the document records.
    resolved = {question.id for question in document.questions if question.state.value == "resolved"}
    assert resolved
    for record in store.records():
        assert record.status is (Status.FOLDED if record.id in resolved else Status.OPEN)
        assert bool(record.answers) == (record.id in resolved)
        assert all(answer.source == "document" and answer.binding for answer in record.answers)
    assert load_records(store.directory)[0].document == "draft-THREAT-MODEL.md"


def test_import_twice_changes_nothing(store: FolderStore, document) -> None:
    store.import_document(document)
    before = snapshot(store.directory)
    result = store.import_document(document)
    assert result.created == () and result.updated == ()
    assert len(result.unchanged) == len(document.questions)
    assert snapshot(store.directory) == before


def test_hand_edits_survive_a_reimport(store: FolderStore, document) -> None:
    store.import_document(document)
    path = store.path_for("Q3")
    text = path.read_text(encoding="utf-8")
    text = text.replace("title: ", "# renamed after the first review round\ntitle: ", 1)
    text = "\n".join(
        "title: Our own words for Q3" if line.startswith("title: ") else line for line in text.splitlines()
    ) + "\n"
    text = text.replace("status: open", "status: open  # still waiting for the PMC")
    path.write_text(text, encoding="utf-8")

    moved = replace(
        document,
        questions=tuple(
            replace(question, span=replace(question.span, start_line=question.span.start_line + 3, end_line=question.span.end_line + 3))
            if question.id == "Q3"
            else question
            for question in document.questions
        ),
    )
    result = store.import_document(moved)
    assert result.updated == ("Q3",)
    after = path.read_text(encoding="utf-8")
    assert "# renamed after the first review round\ntitle: Our own words for Q3\n" in after
    assert "status: open  # still waiting for the PMC" in after
    assert store.get("Q3")["lines"][0] == document.question("Q3").span.start_line + 3
    assert store.import_document(moved).updated == ()


def test_import_keeps_workflow_state(store: FolderStore, document) -> None:
    store.import_document(document)
    mapping = store.get("Q5")
    read = Reading("Q5", (Stance.CONFIRM,), (AnswerReading("Q5", Stance.CONFIRM, "yes"),), (), (), (), True, 1.0, False)
    apply_reading(mapping, read, author="maint-a", association="MEMBER", is_maintainer=True, comment_id=9, url=None, at="2026-06-01T00:00:00Z")
    store.save(mapping)
    changed_text = replace(document.question("Q5"), text="A reworded question five?")
    edited = replace(document, questions=tuple(changed_text if q.id == "Q5" else q for q in document.questions))
    assert store.import_document(edited).updated == ("Q5",)
    record = {r.id: r for r in store.records()}["Q5"]
    assert record.status is Status.CONFIRMED
    assert record.question == "A reworded question five?"
    assert record.answers[0].comment_id == 9


def test_a_malformed_record_is_reported_with_file_and_line_and_left_alone(store: FolderStore, document) -> None:
    store.import_document(document)
    path = store.path_for("Q4")
    lines = path.read_text(encoding="utf-8").splitlines()
    status_line = next(index for index, line in enumerate(lines) if line.startswith("status:"))
    lines[status_line] = "status: finished"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = snapshot(store.directory)

    with pytest.raises(RecordError) as raised:
        store.load()
    assert raised.value.path == str(path)
    assert raised.value.line == status_line + 1
    assert f"Q04.yaml:{status_line + 1}:" in str(raised.value)

    with pytest.raises(RecordError):
        store.import_document(document)  # nothing is written when one record is bad
    good = load_record_text(dump_record({**dict(store.get("Q5")), "id": "Q4"}), "x")
    with pytest.raises(RecordError):
        store.save(good)  # refuses to overwrite the file that fails to load
    assert snapshot(store.directory) == before


def test_a_yaml_syntax_error_carries_ruamels_line(store: FolderStore, document) -> None:
    store.import_document(document)
    path = store.path_for("Q2")
    text = path.read_text(encoding="utf-8").replace("awaiting: []", "awaiting: [unclosed", 1)
    path.write_text(text, encoding="utf-8")
    expected_line = text.splitlines().index("awaiting: [unclosed") + 1
    before = path.read_bytes()
    with pytest.raises(RecordError) as raised:
        store.load()
    assert "YAML syntax error" in raised.value.message
    assert raised.value.line is not None and abs(raised.value.line - expected_line) <= 1
    assert path.read_bytes() == before


def test_a_nested_error_points_at_the_nested_key(store: FolderStore) -> None:
    text = (
        "schema: 1\nid: Q9\ndocument: d.md\nquestion: Why?\nstatus: open\n"
        "answers:\n  - author: maint-a\n    stance: confirm\n  - author: maint-b\n    stance: shrug\n"
    )
    with pytest.raises(RecordError) as raised:
        load_record_text(text, "Q09.yaml")
    assert raised.value.line == 10
    assert "answers.1.stance" in raised.value.message


def test_record_in_the_wrong_file_or_twice_is_an_error(store: FolderStore, document) -> None:
    store.import_document(document)
    (store.directory / "Q99.yaml").write_bytes(store.path_for("Q1").read_bytes())
    with pytest.raises(RecordError, match=r"belongs in Q01\.yaml"):
        store.load()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    text = "schema: 2\nid: Q1\ndocument: d.md\nquestion: Why?\nstatus: open\n"
    with pytest.raises(RecordError) as raised:
        load_record_text(text, "Q01.yaml")
    assert raised.value.line == 1 and "newer" in raised.value.message


def test_save_is_atomic_and_round_trips(store: FolderStore, document) -> None:
    store.import_document(document)
    mapping = store.get("Q1")
    mapping["awaiting"] = ["maint-b"]
    mapping.yaml_add_eol_comment("asked on the list", "awaiting")
    path = store.save(mapping)
    assert [p.name for p in store.directory.iterdir() if not p.name.endswith(".yaml")] == []  # no temp files left
    text = path.read_text(encoding="utf-8")
    assert "# asked on the list" in text
    assert dump_record(load_record_text(text, str(path))) == text
    assert not any(line.endswith(" ") for line in text.splitlines())  # folded text, no trailing spaces


def test_an_invalid_mapping_is_never_written(store: FolderStore, document) -> None:
    store.import_document(document)
    before = snapshot(store.directory)
    mapping = store.get("Q1")
    mapping["status"] = "finished"
    with pytest.raises(RecordError):
        store.save(mapping)
    assert snapshot(store.directory) == before


def test_a_document_without_questions_is_refused(store: FolderStore, document) -> None:
    empty = replace(document, questions=(), has_open_questions_section=False)
    with pytest.raises(DocumentError):
        store.import_document(empty)
    assert not store.directory.exists()


def test_records_for_questions_no_longer_in_the_document_are_reported(store: FolderStore, document) -> None:
    store.import_document(document)
    fewer = replace(document, questions=document.questions[:-1])
    assert store.import_document(fewer).not_in_document == (document.questions[-1].id,)


def _confirm(store: FolderStore, question_id: str, comment_id: int) -> None:
    """A maintainer's binding `/confirm`, as the webhook path records it."""
    mapping = store.get(question_id)
    read = Reading(question_id, (Stance.CONFIRM,), (AnswerReading(question_id, Stance.CONFIRM, "yes"),), (), (), (), True, 1.0, False)
    apply_reading(mapping, read, author="maint-a", association="MEMBER", is_maintainer=True, comment_id=comment_id, url=None, at="2026-06-01T00:00:00Z")
    store.save(mapping)


def test_a_question_the_fold_removed_stays_folded_with_its_answers_through_the_reimport(store: FolderStore, document) -> None:
    # The service re-imports on every push, the fold commit included: with `retire: remove`
    # that commit no longer has the folded questions, and their records must not suffer for it.
    text = FIXTURE.read_text(encoding="utf-8")
    store.import_document(document)
    _confirm(store, "Q3", 31)
    _confirm(store, "Q6", 61)
    options = PlanOptions(resolve_style=ResolveStyle.REMOVE, path="draft-THREAT-MODEL.md")
    plan = plan_promotions(text, store.records(), options)
    assert plan.removed == ("Q3", "Q6")
    for question_id in plan.folded:  # what folding._settle does once the commit lands
        mapping = store.get(question_id)
        mark_folded(mapping, "2026-06-02T00:00:00Z")
        store.save(mapping)
    folded_files = {name: (store.directory / name).read_bytes() for name in ("Q03.yaml", "Q06.yaml")}

    reparsed = parse_document(plan.new_text, "draft-THREAT-MODEL.md")
    result = store.import_document(reparsed)

    assert result.not_in_document == ("Q3", "Q6")
    assert {name: (store.directory / name).read_bytes() for name in folded_files} == folded_files
    records = {record.id: record for record in store.records()}
    for question_id, comment_id in (("Q3", 31), ("Q6", 61)):
        assert records[question_id].status is Status.FOLDED
        assert [(a.author, a.comment_id, a.binding) for a in records[question_id].answers] == [("maint-a", comment_id, True)]
    # Every other question is still there under its id, its record following it to its new lines.
    assert [question.id for question in reparsed.questions] == [q.id for q in document.questions if q.id not in ("Q3", "Q6")]
    assert all(records[q.id].lines == (q.span.start_line, q.span.end_line) for q in reparsed.questions)
    assert records["Q8"].lines[0] < document.question("Q8").span.start_line
    # And the next plan, on the saved records, has nothing left to do.
    assert plan_promotions(plan.new_text, store.records(), options).diff == ""


def test_an_empty_section_14_keeps_the_records_it_once_had(store: FolderStore, document) -> None:
    store.import_document(document)
    before = snapshot(store.directory)
    emptied = replace(document, questions=())  # every question removed by `retire: remove`
    result = store.import_document(emptied)
    assert result.not_in_document == tuple(question.id for question in document.questions)
    assert not result.changed and snapshot(store.directory) == before


def test_an_empty_section_14_with_nothing_recorded_is_refused(store: FolderStore, document) -> None:
    with pytest.raises(DocumentError):
        store.import_document(replace(document, questions=()))
    assert not store.directory.exists()


def test_a_loaded_record_is_the_callers_own_and_a_shared_one_is_only_read(store: FolderStore, document) -> None:
    store.import_document(document)
    first = store.load()["Q8"]
    first["status"] = "confirmed"  # changed in memory only, as a handler does before saving
    assert store.load()["Q8"]["status"] == "open"  # the cached parse behind it is untouched
    shared = store.load(shared=True)["Q8"]
    assert shared is store.load(shared=True)["Q8"]  # no copy: what `records()` and the write check read
    assert [record.status for record in store.records() if record.id == "Q8"] == [Status.OPEN]


def test_a_dump_or_load_that_fails_leaves_the_next_ones_exact(store: FolderStore, document) -> None:
    store.import_document(document)
    texts = {path.name: path.read_text(encoding="utf-8") for path in store.directory.glob("*.yaml")}

    class NotYaml:
        pass

    with pytest.raises(Exception, match="cannot represent"):
        dump_record({"id": "Q1", "odd": NotYaml()})  # fails half-way through an emit
    with pytest.raises(RecordError):
        load_record_text("id: [Q1\n", "broken.yaml")  # fails half-way through a parse
    for name, text in texts.items():
        assert dump_record(load_record_text(text, name)) == text


def test_a_yaml_1_1_directive_in_one_file_changes_no_other_load_or_dump(store: FolderStore, document) -> None:
    from bot.store.yamlio import parse_yaml

    store.import_document(document)
    texts = {path.name: path.read_text(encoding="utf-8") for path in store.directory.glob("*.yaml")}
    parse_yaml("%YAML 1.1\n---\nnote: 010\n", "old-style.yaml")  # someone's file in the older dialect
    assert parse_yaml("answer: yes\ncount: 010\n", "new.yaml") == {"answer": "yes", "count": 10}  # still YAML 1.2
    for name, text in texts.items():
        assert dump_record(load_record_text(text, name)) == text  # no `%YAML 1.1` header creeps in
