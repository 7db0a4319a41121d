"""The planner's read-back of §14 reuses the parse's reading of each entry it left as written
(`Document.entry_readings`); it must see the same questions as a fresh parse.

The corpus is found by tests/corpus.py (beside the repository); with `CI` set a missing corpus fails.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_planner_corpus import confirmed

from bot.core.document import parse_document, parse_questions
from bot.core.planner import PlanOptions, ResolveStyle, plan_document
from bot.core.records import Record
from corpus import THREAT_MODELS, require_corpus

CORPUS_DOCUMENTS = sorted(THREAT_MODELS.glob("*.md")) if THREAT_MODELS.is_dir() else []


def confirming(document_path: str, question_ids: list[str]) -> list[Record]:
    return [replace(confirmed(question_id, "aster"), document=document_path) for question_id in question_ids]


STYLES = (None, ResolveStyle.STRIKE, ResolveStyle.LABEL, ResolveStyle.REPLY, ResolveStyle.QUOTE)


@pytest.mark.parametrize("index, path", list(enumerate(CORPUS_DOCUMENTS)), ids=[path.name for path in CORPUS_DOCUMENTS])
def test_a_plans_read_back_with_the_parses_readings_sees_what_a_fresh_parse_sees(index: int, path: Path) -> None:
    require_corpus()
    text = path.read_text(encoding="utf-8")
    document = parse_document(text, path.name)
    assert document.entry_readings or not document.questions
    ids = [question.id for question in document.questions]
    # Two resolve styles a document, in turn: each style meets eight or more dialects.
    for style in (STYLES[index % len(STYLES)], STYLES[(index + 2) % len(STYLES)]):
        for chosen in (ids, ids[::3]):
            planned = plan_document(document, text, confirming(path.name, chosen), PlanOptions(path=path.name, resolve_style=style))
            assert parse_questions(planned.new_text, document.entry_readings) == parse_questions(planned.new_text)


@pytest.mark.parametrize("path", CORPUS_DOCUMENTS[:1], ids=lambda path: path.name)
def test_the_readings_do_not_change_how_documents_compare(path: Path) -> None:
    require_corpus()
    text = path.read_text(encoding="utf-8")
    first, second = parse_document(text, path.name), parse_document(text, path.name)
    assert first.entry_readings is not second.entry_readings
    assert first == second and repr(first) == repr(second)
    assert "entry_readings" not in repr(first)
