"""Digests already on a thread, and the decision to post, delete and minimize."""
from __future__ import annotations

from bot.core.digest_figures import DigestFigures
from bot.core.digest_marker import digest_marker
from bot.core.digest_publication import digest_for_week, posted_digests, previous_digest

# --- digests already on the PR --------------------------------------------------------------------


def _comment(comment_id: int, body: str, **extra) -> dict:
    return {"id": comment_id, "node_id": f"IC_{comment_id}", "body": body, **extra}


def test_posted_digests_are_found_by_marker_and_ordered_by_id() -> None:
    figures = DigestFigures(week="2026-W47", status_counts={"open": 3})
    comments = [
        _comment(30, digest_marker("2026-W48") + "\n## digest"),
        _comment(10, "a maintainer talking about the digest"),
        _comment(20, digest_marker("2026-W47", figures) + "\n## digest", minimized={"reason": "outdated"}),
    ]
    digests = posted_digests(comments)
    assert [(digest.comment_id, digest.week) for digest in digests] == [(20, "2026-W47"), (30, "2026-W48")]
    assert digests[0].figures == figures
    assert digests[0].minimized is True
    assert digests[1].minimized is None  # the JSON did not say


def test_this_week_is_the_oldest_copy_and_previous_is_the_latest_earlier_week() -> None:
    comments = [
        _comment(5, digest_marker("2026-W46")),
        _comment(9, digest_marker("2026-W47")),
        _comment(12, digest_marker("2026-W48")),
        _comment(11, digest_marker("2026-W48")),
    ]
    digests = posted_digests(comments)
    assert digest_for_week(digests, "2026-W48").comment_id == 11
    assert previous_digest(digests, "2026-W48").comment_id == 9
    assert previous_digest(digests, "2026-W46") is None
    assert digest_for_week(digests, "2026-W49") is None


def test_previous_digest_crosses_a_year_boundary() -> None:
    digests = posted_digests([_comment(1, digest_marker("2025-W52")), _comment(2, digest_marker("2026-W01"))])
    assert previous_digest(digests, "2026-W02").week == "2026-W01"
    assert previous_digest(digests, "2026-W01").week == "2025-W52"
