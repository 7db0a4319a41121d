"""The hidden first line of a digest comment: its ISO week and its figures.

The marker is what lets next week's digest compute "what changed" from GitHub alone, and
what keeps two schedulers from posting twice for one week. A PR's own digest and a family
digest carry different prefixes, so both kinds can share a thread.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bot.core.digest_figures import DigestFigures

MARKER_PREFIX = "threat-model-bot:digest"
FAMILY_MARKER_PREFIX = "threat-model-bot:family-digest"

T = TypeVar("T")
_WEEK = r"\d{4}-W\d{2}"
_B64 = r"[A-Za-z0-9_-]+=*"


def digest_marker(week: str, figures: DigestFigures | None = None) -> str:
    """The hidden first line of a digest comment; `figures` are base64url-encoded JSON so
    nothing inside can close the HTML comment early."""
    if figures is None:
        return f"<!-- {MARKER_PREFIX} week={week} -->"
    return f"<!-- {MARKER_PREFIX} week={week} figures={_encode(figures.to_json())} -->"


def parse_digest_marker(comment_body: str) -> tuple[str, DigestFigures | None] | None:
    """(week, figures) from a digest comment; figures are None when absent or unreadable;
    None when the comment carries no digest marker at all."""
    return _parse_marker(MARKER_PREFIX, comment_body, DigestFigures.from_json)


def family_digest_marker(week: str, figures_by_repo: Mapping[str, DigestFigures]) -> str:
    payload = {repo: figures_by_repo[repo].to_json() for repo in sorted(figures_by_repo)}
    return f"<!-- {FAMILY_MARKER_PREFIX} week={week} figures={_encode(payload)} -->"


def parse_family_digest_marker(comment_body: str) -> tuple[str, dict[str, DigestFigures] | None] | None:
    """(week, figures per repository) from a family digest comment, like parse_digest_marker."""
    return _parse_marker(FAMILY_MARKER_PREFIX, comment_body, _figures_by_repo)


def _figures_by_repo(decoded: object) -> dict[str, DigestFigures]:
    if not isinstance(decoded, Mapping):
        raise ValueError("family figures must be a mapping")
    return {repo: DigestFigures.from_json(value) for repo, value in decoded.items()}


def _parse_marker(prefix: str, comment_body: str, read: Callable[[Any], T]) -> tuple[str, T | None] | None:
    match = re.search(rf"<!--\s*{re.escape(prefix)}\s+week=({_WEEK})(?:\s+figures=({_B64}))?\s*-->", comment_body)
    if match is None:
        return None
    week, payload = match.group(1), match.group(2)
    if payload is None:
        return week, None
    try:
        return week, read(_decode(payload))
    except ValueError:
        return week, None  # a damaged marker still proves the week was posted


def _encode(payload: object) -> str:
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _decode(payload: str) -> object:
    stripped = payload.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"unreadable figures: {error}") from error
