"""The hidden marker: the week and the figures a digest carries to next week."""
from __future__ import annotations

import json

import pytest
from digest_builders import (
    NOW,
    document,
    record,
)

from bot.core.digest_figures import DigestFigures
from bot.core.digest_marker import digest_marker, parse_digest_marker
from bot.core.digest_wording import render_digest
from bot.core.records import Status


def test_marker_round_trips_the_figures() -> None:
    figures = DigestFigures(
        week="2026-W48",
        status_counts={"open": 2, "folded": 3},
        confirmed=frozenset({"Q8", "Q10"}),
        folded=frozenset({"Q14.R1", "Q2", "Q3"}),
        tally={"documented": 7, "inferred": 2, "maintainer": 9},
    )
    marker = digest_marker("2026-W48", figures)
    assert marker.startswith("<!-- threat-model-bot:digest week=2026-W48 figures=")
    assert marker.count("-->") == 1
    assert parse_digest_marker(f"intro\n{marker}\nbody") == ("2026-W48", figures)
    assert DigestFigures.from_json(json.dumps(figures.to_json())) == figures


def test_marker_parsing_tolerates_absence_and_damage() -> None:
    assert parse_digest_marker("just a comment") is None
    assert parse_digest_marker(digest_marker("2026-W01")) == ("2026-W01", None)
    assert parse_digest_marker("<!-- threat-model-bot:digest week=2026-W02 figures=bm90IGpzb24 -->") == ("2026-W02", None)
    with pytest.raises(ValueError):
        DigestFigures.from_json({"week": "2026-W02", "status": {"open": "two"}})


def test_rendered_digest_starts_with_its_marker_and_it_recovers_the_figures() -> None:
    records = [record(1, Status.CONFIRMED), record(2, awaiting=("ada-l",))]
    digest = render_digest(records, document({"documented": 4, "inferred": 1, "maintainer": 2}), None, NOW, maintainers=())
    assert digest.markdown.splitlines()[0] == digest_marker("2026-W48", digest.figures)
    assert digest.week == "2026-W48"
    assert parse_digest_marker(digest.markdown) == ("2026-W48", digest.figures)
