"""The planner on every real threat-model document in ../shared/corpus/threat-models/.

A plan may change provenance tags, the §14 entries it resolves or removes, and the stated tally;
every other line stays byte-identical, no question left unconfirmed changes state, struck text
renders as struck, and a second plan on the result is empty. Hypothesis picks the document, the
subset of its questions that maintainers confirmed, and how resolved questions are marked.

The corpus is found by tests/corpus.py (beside the repository); with `CI` set a missing corpus fails.
"""
from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core.document import parse_document
from bot.core.model import Document, TagKind
from bot.core.planner import Plan, PlanOptions, ResolveStyle, plan_promotions, question_key
from bot.core.records import Answer, Record, Status
from bot.core.tags import TAG_PATTERN, parse_tag_text
from corpus import THREAT_MODELS, require_corpus

DOCUMENTS = sorted(THREAT_MODELS.glob("*.md")) if THREAT_MODELS.is_dir() else []
LOGINS = ("aster", "birch", "cedar-9")


def confirmed(question_id: str, login: str) -> Record:
    return Record(
        id=question_id,
        document="THREAT-MODEL.md",
        wave=None,
        title=question_id,
        question="...",
        proposed_answer=None,
        maps_to=(),
        document_state="open",
        lines=None,
        status=Status.CONFIRMED,
        answers=(
            Answer(author=login, association="MEMBER", stance="confirm", excerpt="confirmed as proposed",
                   at="2026-06-12T09:00:00Z", binding=True),
        ),
    )


# ---------------------------------------------------------------------------------------
# What a plan may change
# ---------------------------------------------------------------------------------------

# A tag's first line when the tag wraps onto the next (the diff may see only that line change).
_TAG_HEAD = re.compile(r"[*_]\((?:documented\s*\+\s*)?(?:inferred|maintainer|confirmed)\b[^()\n]*$", re.IGNORECASE)
_TAG_TAIL = re.compile(r"^[ \t>]*(?:documented\s*\+\s*)?(?:inferred|maintainer|confirmed)\b[^()\n]*\)[.:;,]?[*_]", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")


def _without_tags(block: str) -> str:
    block = TAG_PATTERN.sub("<tag>", block)
    return _TAG_TAIL.sub("<tag>", _TAG_HEAD.sub("<tag>", block))


_NOISE = re.compile(r"[*_#`\s]+")


def _editable_lines(document: Document, plan: Plan, old_lines: list[str]) -> set[int]:
    """Lines of the §14 entries the plan marks or removes, and the label of a group it empties."""
    marked = {question_key(question_id) for question_id in (*plan.resolved, *plan.removed)}
    lines: set[int] = set()
    for question in document.questions:
        if question_key(question.id) in marked:
            lines.update(range(question.span.start_line, question.span.end_line + 1))
    removed = {question_key(question_id) for question_id in plan.removed}
    emptied = {
        _NOISE.sub(" ", question.wave).strip().lower()
        for question in document.questions
        if question.wave
        and all(question_key(other.id) in removed for other in document.questions if other.wave == question.wave)
    }
    starts = {question.span.start_line for question in document.questions}
    for number, line in enumerate(old_lines, start=1):
        written = _NOISE.sub(" ", line).strip().lower()
        if written and any(written.startswith(wave[:40]) for wave in emptied):
            # The label, wrapped onto as many lines as it takes, up to its first entry.
            while number <= len(old_lines) and old_lines[number - 1].strip() and number not in starts:
                lines.add(number)
                number += 1
    return lines


def _tally_lines(document: Document) -> set[int]:
    start = document.tally.stated_line
    return set(range(start, start + 6)) if document.tally.stated and start else set()


def assert_only_provenance_changed(document: Document, old: str, plan: Plan) -> None:
    old_lines, new_lines = old.split("\n"), plan.new_text.split("\n")
    editable = _editable_lines(document, plan, old_lines)
    blank = {number for number, line in enumerate(old_lines, start=1) if not line.strip()}
    tally = _tally_lines(document)
    # The diff may place an edit anywhere in the run of blank lines around an entry.
    near = set(editable)
    for number in sorted(editable):
        for step in (-1, 1):
            probe = number + step
            while probe in blank:
                near.add(probe)
                probe += step
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        numbers = set(range(i1 + 1, i2 + 1))
        if op == "insert":
            numbers = {i1, i1 + 1}  # the lines either side of the insertion point
            if numbers & near:
                continue
        elif (
            (numbers <= near and numbers & editable)
            or (op == "delete" and _same_as_an_editable_run(old_lines, i1, i2, near))
            or (op == "replace" and j2 - j1 > i2 - i1 and _insertion_beside_a_tag_flip(old_lines[i1:i2], new_lines[j1:j2], i1, i2, near))
        ):
            continue
        old_block, new_block = "\n".join(old_lines[i1:i2]), "\n".join(new_lines[j1:j2])
        old_block, new_block = _without_tags(old_block), _without_tags(new_block)
        if numbers & tally:
            old_block, new_block = _DIGITS.sub("#", old_block), _DIGITS.sub("#", new_block)
        assert i2 - i1 == j2 - j1 and old_block == new_block, (
            f"line(s) {i1 + 1}-{i2} changed outside tags, §14 entries and the tally:\n"
            f"- {old_lines[i1:i2]!r}\n+ {new_lines[j1:j2]!r}"
        )


def _same_as_an_editable_run(lines: list[str], start: int, end: int, near: set[int]) -> bool:
    """Deleting these lines leaves the same text as deleting a nearby run of removable lines: the
    diff merely aligned two identical stretches (`*(maintainer)* Yes.` under a kept entry and
    under a removed one) the other way."""
    size = end - start
    for lo in range(max(0, start - 60), min(len(lines) - size, start + 60) + 1):
        hi = lo + size
        if not set(range(lo + 1, hi + 1)) <= near:
            continue
        first, last = min(start, lo), max(end, hi)
        if lines[first:start] + lines[end:last] == lines[first:lo] + lines[hi:last]:
            return True
    return False


def _insertion_beside_a_tag_flip(old: list[str], new: list[str], i1: int, i2: int, near: set[int]) -> bool:
    """A reply or quote added under one entry, next to a line whose tag flipped: the diff shows
    one replacement where there are an insertion beside an entry and a tag-only change."""
    size = len(old)
    same = _without_tags("\n".join(old))
    if _without_tags("\n".join(new[-size:])) == same and {i1, i1 + 1} & near:
        return True
    return _without_tags("\n".join(new[:size])) == same and {i2, i2 + 1} & near


def assert_promotions_well_formed(plan: Plan, logins_of: dict[str, str]) -> None:
    for promotion in plan.promotions:
        parsed = parse_tag_text(promotion.new_tag)
        assert parsed is not None, promotion
        kind, details = parsed
        assert kind is not TagKind.INFERRED and TagKind.MAINTAINER in (kind, *details["also"]), promotion
        expected = {logins_of[question_key(part)] for part in promotion.question.split("/")}
        assert expected <= set(details["maintainers"]), promotion
        assert "— →" not in promotion.new_tag and "( " not in promotion.new_tag, promotion


_MARKDOWN = MarkdownIt("commonmark").enable(["strikethrough", "table"])


def _unrendered_strikes(text: str) -> int:
    """`~~` left as literal text after rendering: a strike Markdown did not take."""
    return sum(
        child.content.count("~~")
        for token in _MARKDOWN.parse(text)
        if token.type == "inline"
        for child in token.children or ()
        if child.type == "text"
    )


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


def patched(old: str, diff: str) -> str:
    """`old` with a unified diff applied; every context and removed line must match."""
    before = old.split("\n")
    body = diff.split("\n")[2:]
    out: list[str] = []
    position = 0
    for line in body:
        hunk = _HUNK.match(line)
        if hunk:
            start = int(hunk.group(1)) - (1 if hunk.group(2) != "0" else 0)
            out += before[position:start]
            position = start
        elif line[:1] in (" ", "-"):
            assert before[position] == line[1:], f"diff does not match line {position + 1}"
            if line[0] == " ":
                out.append(line[1:])
            position += 1
        elif line[:1] == "+":
            out.append(line[1:])
    return "\n".join(out + before[position:])


def check_plan(path: Path, chosen: set[str], resolve_style: ResolveStyle | None, logins: dict[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    document = parse_document(text, path.name)
    records = [confirmed(question.id, logins[question_key(question.id)]) for question in document.questions if question.id in chosen]
    options = PlanOptions(path=path.name, resolve_style=resolve_style)
    plan = plan_promotions(text, records, options)

    assert_only_provenance_changed(document, text, plan)
    assert patched(text, plan.diff) == plan.new_text
    assert_promotions_well_formed(plan, logins)
    assert _unrendered_strikes(plan.new_text) <= _unrendered_strikes(text)
    after = parse_document(plan.new_text, path.name)
    questions_after = {question.id: question for question in after.questions}
    for question in document.questions:
        if question.id in chosen:
            continue
        # Never resolved (or removed) along with a confirmed neighbour, never cut, never handed
        # the orphaned lines of a removed entry.
        assert question.id in questions_after, f"{question.id} disappeared"
        now = questions_after[question.id]
        assert now.state is question.state, f"{question.id}: {question.state} -> {now.state}"
        # (Its words may hold a tag linked to a confirmed question: that tag flips.)
        assert [_without_tags(words or "") for words in (now.text, now.answer)] == [
            _without_tags(words or "") for words in (question.text, question.answer)
        ], f"{question.id} now reads differently"
    # Nothing left behind that the reader cannot place. With `retire: remove`, back-links to a
    # removed question and a group label whose every entry went are expected (see the README).
    gone = tuple(plan.removed)
    new_issues = [
        issue.message
        for issue in after.issues
        if not (gone and ("does not contain" in issue.message or "no question id" in issue.message))
    ]
    assert len(new_issues) <= len(document.issues), new_issues
    if plan.tally is not None:
        assert after.tally.stated == plan.tally
    again = plan_promotions(plan.new_text, records, options)
    assert again.diff == "", f"a second plan still changes:\n{again.diff[:2000]}"


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------

STYLES = (None, ResolveStyle.REMOVE, ResolveStyle.STRIKE, ResolveStyle.MARK, ResolveStyle.LABEL, ResolveStyle.REPLY, ResolveStyle.QUOTE)


@functools.cache
def question_ids(path: Path) -> tuple[str, ...]:
    return tuple(question.id for question in parse_document(path.read_text(encoding="utf-8"), path.name).questions)


@st.composite
def corpus_case(draw: st.DrawFn) -> tuple[Path, set[str], ResolveStyle | None, dict[str, str]]:
    path = draw(st.sampled_from(DOCUMENTS))
    ids = question_ids(path)
    chosen = draw(st.sets(st.sampled_from(ids))) if ids else set()
    logins = {question_key(question_id): draw(st.sampled_from(LOGINS)) for question_id in ids}
    return path, chosen, draw(st.sampled_from(STYLES)), logins


@pytest.mark.skipif(not DOCUMENTS, reason="needs the corpus; test_the_corpus_is_there says why")
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(corpus_case())
def test_any_subset_confirmed_changes_only_provenance(case: tuple[Path, set[str], ResolveStyle | None, dict[str, str]]) -> None:
    check_plan(*case)


@pytest.mark.parametrize("resolve_style", [None, ResolveStyle.REMOVE], ids=["detected", "remove"])
@pytest.mark.parametrize("path", DOCUMENTS or [None], ids=lambda path: path.name if path else "no-corpus")
def test_every_question_confirmed_changes_only_provenance(path: Path | None, resolve_style: ResolveStyle | None) -> None:
    require_corpus()
    assert path is not None
    ids = question_ids(path)
    check_plan(path, set(ids), resolve_style, {question_key(question_id): "aster" for question_id in ids})


def test_the_corpus_is_there() -> None:
    require_corpus()
    assert len(DOCUMENTS) >= 40
