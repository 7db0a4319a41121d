"""The shortcuts that make parse + plan fast read exactly what the slow path reads.

- `entries.block_parser()` runs only the markdown-it block rules that could accept a line; its
  tokens must be markdown-it's own (CommonMark + tables) on any text.
- The planner's read-back of §14 reuses the parse's reading of each entry it left as written
  (`Document.entry_readings`); it must see the same questions as a fresh parse.

The corpus is found by tests/corpus.py (beside the repository); with `CI` set a missing corpus fails.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core.document import parse_document, parse_questions
from bot.core.entries import block_parser
from bot.core.planner import PlanOptions, ResolveStyle, plan_document
from bot.core.records import Answer, Record, Status
from corpus import THREAT_MODELS, require_corpus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "documents"
CORPUS_DOCUMENTS = sorted(THREAT_MODELS.glob("*.md")) if THREAT_MODELS.is_dir() else []
FIXTURE_DOCUMENTS = sorted(FIXTURES.rglob("*.md"))

STOCK = MarkdownIt("commonmark", {"maxNesting": 40}).enable(["table"]).disable(["inline", "text_join"])
FAST = block_parser()

# Each block rule's opening, and the places where one block may end another.
SHAPES = [
    "A paragraph\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    "Words with a | pipe\nand more | words\n",
    "A paragraph\n> a quote\nlazy line\n",
    "A paragraph\n- item\n1. one\n2) two\n",
    "A paragraph\n2. not a list here\n",
    "A paragraph\n<div>\nhtml\n</div>\n",
    "A paragraph\n***\n- - -\n___\n",
    "A paragraph\n```\ncode\n```\n~~~\nmore\n~~~\n",
    "A paragraph\n# heading\n## another ##\n",
    "Setext heading\n===\nand another\n---\n",
    "  indented paragraph\n   ~~~\n    four spaces\n",
    "    code block\n\n    still code\nafter\n",
    "[ref]: https://example.org\n[other]: /path 'title'\ntext [ref]\n",
    "> quote\n> more\n- item\n  continued\n  > nested quote\n  text\n  | t |\n  |---|\n",
    "1. **Q1.** Is it?\n   *(maintainer: aster)* Yes.\n8a. **Q8a.** And this?\n\n   - sub\n",
    "**Wave 2 — open**\n3. **Q3.** Third?\n4. **Q4.** Fourth?\n",
    "- [x] **Q5.** Ticked\n- [ ] **Q6.** Not yet\n+ plus\n* star\n",
    "<!-- a comment\nspanning -->\ntext\n",
    "text\n\t- tab item\n \t> tab quote\n",
]
PIECES = [
    "word", " ", "  ", "    ", "\t", "\n", "\n\n", "-", "*", "+", "_", "1.", "2)", "10.", ">", "#", "##",
    "|", "---", "|---|", "```", "~~~", "<div>", "<!--", "-->", "=", ":", "[x]: /u", "[", "**Q1.**", "§14",
]


def tokens(parser: MarkdownIt, text: str) -> list[tuple[object, ...]]:
    return [(t.type, t.map, t.level, t.tag, t.info, t.markup, t.content, t.hidden) for t in parser.parse(text)]


@pytest.mark.parametrize("text", SHAPES)
def test_block_parser_reads_each_shape_as_markdown_it_does(text: str) -> None:
    assert tokens(FAST, text) == tokens(STOCK, text)


@pytest.mark.parametrize("path", FIXTURE_DOCUMENTS, ids=lambda path: path.name)
def test_block_parser_reads_our_fixtures_as_markdown_it_does(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert tokens(FAST, text) == tokens(STOCK, text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=60))
def test_block_parser_reads_any_mix_of_block_openings_as_markdown_it_does(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert tokens(FAST, text) == tokens(STOCK, text)


def confirming(document_path: str, question_ids: list[str]) -> list[Record]:
    return [
        Record(
            id=question_id,
            document=document_path,
            wave=None,
            title=question_id,
            question="...",
            proposed_answer=None,
            maps_to=(),
            document_state="open",
            lines=(1, 1),
            status=Status.CONFIRMED,
            answers=(Answer("aster", "MEMBER", "confirm", "yes", "2026-06-12T09:00:00Z", binding=True),),
        )
        for question_id in question_ids
    ]


@pytest.mark.parametrize("path", CORPUS_DOCUMENTS, ids=lambda path: path.name)
def test_a_plans_read_back_with_the_parses_readings_sees_what_a_fresh_parse_sees(path: Path) -> None:
    require_corpus()
    text = path.read_text(encoding="utf-8")
    document = parse_document(text, path.name)
    assert document.entry_readings or not document.questions
    ids = [question.id for question in document.questions]
    for style in (None, ResolveStyle.STRIKE, ResolveStyle.LABEL, ResolveStyle.REPLY, ResolveStyle.QUOTE):
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
