"""Question records as a folder of YAML files (`questions/Q08.yaml`, ...).

Every read validates; a malformed file stops the operation with its file and line and is
never overwritten (a person's half-finished edit is theirs to fix). Writes are atomic: a
temporary file in the same folder, then os.replace, so a crash never leaves half a record.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from bot.core.model import Document, DocumentError
from bot.core.records import (
    Record,
    RecordError,
    canonical_question_id,
    merge_import,
    new_record_mapping,
    question_sort_key,
    record_filename,
    validate_record,
)
from bot.store.yamlio import dump_record, load_record_text, to_commented

__all__ = ["FolderStore", "ImportResult", "dump_record", "load_record_text", "load_records"]


@dataclass(frozen=True)
class ImportResult:
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    not_in_document: tuple[str, ...] = ()  # records whose question the document no longer has

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


class FolderStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    # --- reading -------------------------------------------------------------------------

    def load(self, *, shared: bool = False) -> dict[str, CommentedMap]:
        """Every record, id -> mapping, in question order; RecordError on the first bad file.
        `shared=True`: mappings the caller only reads (see `load_record_text`)."""
        records: dict[str, CommentedMap] = {}
        origins: dict[str, Path] = {}
        for path in sorted(self.directory.glob("*.yaml")) if self.directory.is_dir() else ():
            mapping = self._load_file(path, shared=shared)
            question_id = str(mapping["id"])
            if path.name != record_filename(question_id):
                raise RecordError(str(path), _key_line(mapping, "id"), f"id {question_id} belongs in {record_filename(question_id)}")
            key = canonical_question_id(question_id)
            if key in origins:
                raise RecordError(str(path), _key_line(mapping, "id"), f"{question_id} is also recorded in {origins[key].name}")
            origins[key] = path
            records[question_id] = mapping
        return {question_id: records[question_id] for question_id in sorted(records, key=question_sort_key)}

    def get(self, question_id: str) -> CommentedMap | None:
        path = self.path_for(question_id)
        return self._load_file(path) if path.exists() else None

    def records(self) -> list[Record]:
        """The typed snapshots, in question order (for the digest, status and the planner)."""
        return [validate_record(mapping, str(self.path_for(question_id)))
                for question_id, mapping in self.load(shared=True).items()]

    def path_for(self, question_id: str) -> Path:
        return self.directory / record_filename(question_id)

    # --- writing -------------------------------------------------------------------------

    def save(self, mapping: Mapping) -> Path:
        """Validate, then atomically (re)write the record's file; refuses to clobber a bad file."""
        question_id = str(mapping.get("id", ""))
        path = self.path_for(question_id) if question_id else self.directory / "unnamed.yaml"
        validate_record(mapping, str(path))
        if path.exists():
            self._load_file(path, shared=True)  # RecordError: a file that fails to load is left alone
        text = dump_record(mapping)
        load_record_text(text, str(path), shared=True)  # what we write must read back, or nothing is written
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, text)
        return path

    def file_bytes(self) -> dict[str, bytes]:
        """Each record file's name and exact bytes (to compare with a copy kept elsewhere)."""
        if not self.directory.is_dir():
            return {}
        return {path.name: path.read_bytes() for path in sorted(self.directory.glob("*.yaml"))}

    def replace_file(self, name: str, text: str) -> None:
        """Take a record file's text as it is from elsewhere (the records branch), atomically.
        The caller has validated it: this store never writes a record that does not load."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(self._named(name), text)

    def _named(self, name: str) -> Path:
        if "/" in name or "\\" in name or not name.endswith(".yaml") or name.startswith("."):
            raise ValueError(f"not a record file name: {name!r}")
        return self.directory / name

    def import_document(self, document: Document, document_path: str | None = None) -> ImportResult:
        """Create or refresh one record per §14 question; workflow-owned fields are kept.

        Everything is loaded (and so validated) before the first write: one bad record means
        nothing is written. A record whose question the document no longer has is left exactly
        as it is (reported in `not_in_document`): with `retire: remove` the fold itself deletes
        a folded question's entry, and re-importing that commit must not lose its answers.
        """
        if not document.has_open_questions_section:
            raise DocumentError(f"{document.path}: no §14 open questions to import")
        existing = self.load()
        if not document.questions and not existing:
            # An empty §14 with records is what removal leaves once every question is folded.
            raise DocumentError(f"{document.path}: no §14 open questions to import")
        recorded_as = document_path or document.path
        by_key = {canonical_question_id(question_id): mapping for question_id, mapping in existing.items()}
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        pending: list[Mapping] = []
        for question in document.questions:
            mapping = by_key.get(canonical_question_id(question.id))
            if mapping is None:
                pending.append(to_commented(new_record_mapping(question, recorded_as)))
                created.append(question.id)
            elif merge_import(mapping, question, recorded_as):
                pending.append(mapping)
                updated.append(question.id)
            else:
                unchanged.append(question.id)
        for record in pending:
            validate_record(record, str(self.path_for(str(record["id"]))))  # all good before any write
        for record in pending:
            self.save(record)
        in_document = {canonical_question_id(question.id) for question in document.questions}
        absent = tuple(question_id for question_id in existing if canonical_question_id(question_id) not in in_document)
        return ImportResult(tuple(created), tuple(updated), tuple(unchanged), absent)

    # --- helpers -------------------------------------------------------------------------

    def _load_file(self, path: Path, *, shared: bool = False) -> CommentedMap:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise RecordError(str(path), None, f"not UTF-8 text: {error}") from error
        return load_record_text(text, str(path), shared=shared)


def load_records(directory: Path) -> list[Record]:
    """Shortcut for commands that only read: the validated records of a folder."""
    return FolderStore(directory).records()


def _key_line(mapping: CommentedMap, key: str) -> int | None:
    try:
        return mapping.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
