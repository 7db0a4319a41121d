"""What a digest remembers from one week to the next: the figures, and how they read back.

The figures travel inside the digest's hidden marker (see digest_marker), so `from_json`
checks every field: a comment on GitHub is input like any other.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.model import Document
from bot.core.records import Record, Status

FIGURES_VERSION = 1


@dataclass(frozen=True)
class DigestFigures:
    """One week's figures; stored by the poster and embedded in the digest's marker."""

    week: str  # "2026-W48"
    status_counts: dict[str, int]  # Status value -> count (zero counts omitted)
    confirmed: frozenset[str] = frozenset()
    corrected: frozenset[str] = frozenset()
    struck: frozenset[str] = frozenset()
    folded: frozenset[str] = frozenset()
    tally: dict[str, int] = field(default_factory=dict)  # TagKind value -> counted tags

    def count(self, status: Status) -> int:
        return self.status_counts.get(status.value, 0)

    @property
    def total(self) -> int:
        """Questions still tracked (retired ones no longer count)."""
        return sum(self.status_counts.values()) - self.count(Status.RETIRED)

    @property
    def answered(self) -> int:
        """Tracked questions that somebody has answered (anything past `open`)."""
        return self.total - self.count(Status.OPEN)

    def settled_ids(self) -> frozenset[str]:
        return self.confirmed | self.corrected | self.struck | self.folded

    def to_json(self) -> dict:
        return {
            "v": FIGURES_VERSION,
            "week": self.week,
            "status": dict(sorted(self.status_counts.items())),
            "confirmed": sorted(self.confirmed, key=question_sort_key),
            "corrected": sorted(self.corrected, key=question_sort_key),
            "struck": sorted(self.struck, key=question_sort_key),
            "folded": sorted(self.folded, key=question_sort_key),
            "tally": dict(sorted(self.tally.items())),
        }

    @classmethod
    def from_json(cls, data: Mapping | str) -> DigestFigures:
        """Accepts the `to_json` mapping or its JSON text; raises ValueError on a bad shape."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as error:
                raise ValueError(f"figures are not JSON: {error}") from error
        if not isinstance(data, Mapping) or not isinstance(data.get("week"), str):
            raise ValueError("figures need a mapping with a 'week'")
        return cls(
            week=data["week"],
            status_counts=_int_mapping(data.get("status", {}), "status"),
            confirmed=_id_set(data.get("confirmed", []), "confirmed"),
            corrected=_id_set(data.get("corrected", []), "corrected"),
            struck=_id_set(data.get("struck", []), "struck"),
            folded=_id_set(data.get("folded", []), "folded"),
            tally=_int_mapping(data.get("tally", {}), "tally"),
        )


def _int_mapping(value: object, name: str) -> dict[str, int]:
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and isinstance(count, int) and not isinstance(count, bool)
        for key, count in value.items()
    ):
        raise ValueError(f"figures '{name}' must map names to integers")
    return dict(value)


def _id_set(value: object, name: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"figures '{name}' must be a list of question ids")
    return frozenset(value)


def digest_figures(records: Sequence[Record], document: Document | None, week: str) -> DigestFigures:
    """This week's figures from the records (and the document's counted tally)."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record.status.value] = counts.get(record.status.value, 0) + 1

    def ids(status: Status) -> frozenset[str]:
        return frozenset(record.id for record in records if record.status is status)

    return DigestFigures(
        week=week,
        status_counts=dict(sorted(counts.items())),
        confirmed=ids(Status.CONFIRMED),
        corrected=ids(Status.CORRECTED),
        struck=ids(Status.STRUCK),
        folded=ids(Status.FOLDED),
        tally=dict(document.tally.claim_counts) if document is not None else {},
    )


def family_figures(week: str, by_repo: Mapping[str, DigestFigures]) -> DigestFigures:
    """The family's sum; question ids are qualified by repository ("apache/x:Q9")."""
    counts: dict[str, int] = {}
    tally: dict[str, int] = {}
    for figures in by_repo.values():
        for status, count in figures.status_counts.items():
            counts[status] = counts.get(status, 0) + count
        for kind, count in figures.tally.items():
            tally[kind] = tally.get(kind, 0) + count

    def qualified(name: str) -> frozenset[str]:
        return frozenset(f"{repo}:{qid}" for repo, figures in by_repo.items() for qid in getattr(figures, name))

    return DigestFigures(
        week=week,
        status_counts=dict(sorted(counts.items())),
        confirmed=qualified("confirmed"),
        corrected=qualified("corrected"),
        struck=qualified("struck"),
        folded=qualified("folded"),
        tally=dict(sorted(tally.items())),
    )


def question_sort_key(question_id: str) -> tuple:
    """Natural order: Q8 < Q10 < Q14.R1."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", question_id))
