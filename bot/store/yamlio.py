"""Round-trip YAML for question records: the one place records meet ruamel.yaml.

Round-trip mode keeps key order and the comments a person adds; `dump_record` of a freshly
loaded record gives back the same text. Syntax errors and malformed records both surface as
RecordError with the file and the 1-based line.
"""
from __future__ import annotations

import functools
import io
import pickle
import textwrap
import threading
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString

from bot.core.records import KeyPath, LineOf, Record, RecordError, validate_record

LINE_WIDTH = 4096  # ruamel never wraps plain scalars (that leaves trailing spaces); long text is folded below
FOLD_AT = 88  # text longer than this is written as a folded block, wrapped at this width


def _represent_none(representer: Any, _data: None) -> Any:
    # Write `null` rather than an empty value: `thread: null` reads as intended.
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


# One configured dumper per thread: ruamel builds its representer on an instance's first use
# (about 2 ms a dump), and an instance is not for two threads. Loads take a fresh instance each
# (they are cached by text anyway): a load keeps what it read, such as a `%YAML 1.1`
# directive, on its instance, which would change every later load and dump.
_per_thread = threading.local()


def make_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = LINE_WIDTH
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _represent_none)
    return yaml


def to_commented(value: Any) -> Any:
    """Plain dicts/lists/long strings -> ruamel's types, so every record dumps in one style.

    Loaded containers are kept (they carry comments and their own style) but their plain
    children, e.g. a list `merge_import` just set, are converted in place.
    """
    if isinstance(value, CommentedMap):
        for key in list(value.keys()):
            converted = to_commented(value[key])
            if converted is not value[key]:
                value[key] = converted
        return value
    if isinstance(value, CommentedSeq):
        for index, item in enumerate(value):
            converted = to_commented(item)
            if converted is not item:
                value[index] = converted
        return value
    if isinstance(value, Mapping):
        return CommentedMap((key, to_commented(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        sequence = CommentedSeq(to_commented(item) for item in value)
        if all(isinstance(item, (str, int, float)) for item in value):
            sequence.fa.set_flow_style()  # `maps_to: ["§3 item 5", "§7"]`, `lines: [978, 988]`
        return sequence
    if type(value) is str:
        return _folded(value)
    return value


def _folded(text: str) -> str:
    """Long single-spaced text as a `>-` block, wrapped at word boundaries.

    Plain multi-line scalars would leave a trailing space on every wrapped line; a folded
    block reads better by hand and loads back as exactly the same text.
    """
    if len(text) <= FOLD_AT or "\n" in text or "\t" in text or "  " in text or text != text.strip():
        return text
    segments = textwrap.wrap(text, FOLD_AT, break_long_words=False, break_on_hyphens=False)
    if len(segments) < 2 or " ".join(segments) != text:
        return text
    folded = FoldedScalarString(text)
    positions, offset = [], 0
    for segment in segments[:-1]:
        offset += len(segment)
        positions.append(offset)  # the space after this segment becomes the line break
        offset += 1
    folded.fold_pos = positions
    return folded


def dump_record(mapping: Mapping) -> str:
    """The YAML text of one record (a loaded CommentedMap keeps its comments and order)."""
    dumper: YAML | None = getattr(_per_thread, "dumper", None)
    if dumper is None:
        dumper = _per_thread.dumper = make_yaml()
    stream = io.StringIO()
    try:
        dumper.dump(to_commented(mapping), stream)
    except BaseException:
        _per_thread.dumper = None  # a dump that failed half-way may leave it unusable
        raise
    return stream.getvalue()


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Any:
    return make_yaml().load(text)


@functools.lru_cache(maxsize=256)
def _pickled(text: str) -> bytes:
    return pickle.dumps(_parsed(text), protocol=pickle.HIGHEST_PROTOCOL)


def parse_yaml(text: str, path: str) -> Any:
    """Parse without validating; a syntax error becomes RecordError at ruamel's line.

    Each delivery reads every record of its PR, and most are unchanged since the last read: a
    round-trip parse costs about 7 ms a record. Each caller gets its own copy of the cached
    parse (comments and line marks included), so no two share one mutable object; the copy is
    unpickled from bytes kept beside the parse (our own bytes, never input), five times
    cheaper than `copy.deepcopy` of ruamel's commented maps.
    """
    _shared_parse(text, path)  # a syntax error is raised here, with its line
    return pickle.loads(_pickled(text))


def _shared_parse(text: str, path: str) -> Any:
    """The cached parse itself: never to be changed, only read."""
    try:
        return _parsed(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "not valid YAML"
        raise RecordError(path, line, f"YAML syntax error: {problem}") from error
    except YAMLError as error:
        raise RecordError(path, None, f"YAML syntax error: {error}") from error


def line_finder(root: Any) -> LineOf:
    """Map a key path like ("answers", 0, "stance") to its 1-based line via ruamel's `.lc`."""

    def line_of(key_path: KeyPath) -> int | None:
        if not key_path:
            return _own_line(root)
        node = root
        for depth, part in enumerate(key_path):
            last = depth == len(key_path) - 1
            try:
                if isinstance(node, CommentedMap) and part in node:
                    position = node.lc.key(part)
                    if last:
                        return position[0] + 1
                    node = node[part]
                elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                    position = node.lc.item(part)
                    if last:
                        return position[0] + 1
                    node = node[part]
                else:
                    return None
            except (KeyError, IndexError, TypeError, AttributeError):
                return None
        return None

    return line_of


def _own_line(node: Any) -> int | None:
    line = getattr(getattr(node, "lc", None), "line", None)
    return line + 1 if isinstance(line, int) else None


def load_record_text(text: str, path: str, *, shared: bool = False) -> CommentedMap:
    """Parse and validate one record's text; RecordError(path, line, ...) if it is unusable.

    `shared=True` returns the cached parse itself, without the copy: for a caller that only
    reads it (a typed snapshot, a check that a text loads), never for one that changes it.
    """
    mapping = _shared_parse(text, path) if shared else parse_yaml(text, path)
    if mapping is None:
        raise RecordError(path, 1, "the file is empty; expected a question record")
    validate_loaded(mapping, path)
    return mapping


def validate_loaded(mapping: Any, path: str) -> Record:
    """validate_record with line numbers from the parsed document."""
    return validate_record(mapping, path, line_finder(mapping))
