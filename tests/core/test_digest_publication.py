"""Digests already on a thread, and the decision to post, delete and minimize."""
from __future__ import annotations

from bot.core.digest_figures import DigestFigures
from bot.core.digest_marker import digest_marker, family_digest_marker
from bot.core.digest_publication import (
    digest_for_week,
    look_for_digest,
    posted_digests,
    previous_digest,
    tidy_after_posting,
)

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


# --- the publish decision -----------------------------------------------------------------------

LAST_WEEK = DigestFigures(week="2026-W47", status_counts={"open": 2, "confirmed": 1}, confirmed=frozenset({"Q3"}))


def test_an_empty_thread_says_post_and_first_digest() -> None:
    look = look_for_digest([_comment(4, "Looks good to me.")], "2026-W48")
    assert look.should_post
    assert look.this_week is None and look.previous_figures is None


def test_this_weeks_marker_already_there_says_post_nothing() -> None:
    comments = [_comment(7, digest_marker("2026-W47", LAST_WEEK)), _comment(9, digest_marker("2026-W48"))]
    look = look_for_digest(comments, "2026-W48")
    assert not look.should_post
    assert look.this_week is not None and look.this_week.comment_id == 9
    assert look.previous_figures == LAST_WEEK  # still rendered when the caller only prints


def test_a_family_look_sees_only_family_digests() -> None:
    by_repo = {"apache/widget": LAST_WEEK}
    comments = [_comment(5, family_digest_marker("2026-W47", by_repo)), _comment(6, digest_marker("2026-W48"))]
    look = look_for_digest(comments, "2026-W48", family=True)
    assert look.should_post  # the PR's own digest for this week does not count
    assert look.previous_member_figures == by_repo
    assert look.previous_figures is None
    assert look_for_digest(comments, "2026-W48").previous is None  # and the other way round


def test_after_posting_alone_the_new_comment_stays_and_last_week_is_minimized() -> None:
    look = look_for_digest([_comment(7, digest_marker("2026-W47", LAST_WEEK))], "2026-W48")
    after = [_comment(7, digest_marker("2026-W47", LAST_WEEK)), _comment(12, digest_marker("2026-W48"))]
    tidy = tidy_after_posting(after, look, created_id=12)
    assert tidy.posted is not None and tidy.posted.comment_id == 12
    assert tidy.kept == tidy.posted
    assert tidy.delete == ()
    assert [digest.comment_id for digest in tidy.minimize] == [7]


def test_two_racing_posters_both_keep_the_oldest_copy_and_delete_the_same_ones() -> None:
    look = look_for_digest([], "2026-W48")
    after = [_comment(20, digest_marker("2026-W48")), _comment(21, digest_marker("2026-W48")),
             _comment(22, digest_marker("2026-W48"))]
    ours, theirs = tidy_after_posting(after, look, created_id=21), tidy_after_posting(after, look, created_id=20)
    assert ours.posted is None and ours.kept is not None and ours.kept.comment_id == 20
    assert theirs.posted is not None and theirs.posted.comment_id == 20
    assert [d.comment_id for d in ours.delete] == [d.comment_id for d in theirs.delete] == [21, 22]


def test_only_earlier_digests_still_shown_in_full_and_addressable_are_minimized() -> None:
    look = look_for_digest([], "2026-W48")
    after = [
        _comment(1, digest_marker("2026-W45"), minimized={"reason": "outdated"}),  # already collapsed
        {"id": 2, "body": digest_marker("2026-W46")},  # no node id: GraphQL cannot reach it
        _comment(3, digest_marker("2026-W47"), minimized=None),
        _comment(4, digest_marker("2026-W48")),
        _comment(5, digest_marker("2026-W49")),  # a later week (a clock ahead): left alone
    ]
    tidy = tidy_after_posting(after, look, created_id=4)
    assert [digest.comment_id for digest in tidy.minimize] == [3]


def test_a_family_tidy_leaves_the_pull_requests_own_digests_alone() -> None:
    look = look_for_digest([], "2026-W48", family=True)
    after = [
        _comment(30, digest_marker("2026-W47")),
        _comment(31, digest_marker("2026-W48")),
        _comment(32, family_digest_marker("2026-W48", {})),
    ]
    tidy = tidy_after_posting(after, look, created_id=32)
    assert tidy.posted is not None and tidy.posted.comment_id == 32
    assert tidy.delete == () and tidy.minimize == ()
