"""Digests already on a PR or issue, and the rule for publishing this week's exactly once.

Look first, post, look again: this week's marker already there means post nothing; after
posting, every copy of this week's digest but the oldest goes (two schedulers that raced both
delete the same ones, so they converge on one comment), and earlier weeks' digests are
minimized as outdated. The rule is decided here; the service (gidgethub) and the batch job
(PyGithub) only carry out what it says.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.digest_figures import DigestFigures
from bot.core.digest_marker import parse_digest_marker, parse_family_digest_marker


@dataclass(frozen=True)
class PostedDigest:
    """A digest comment found on the PR: its week comes from the hidden marker."""

    comment_id: int
    node_id: str
    week: str
    figures: DigestFigures | None
    minimized: bool | None  # None when GitHub's JSON does not say
    member_figures: Mapping[str, DigestFigures] | None = None  # a family digest's, by repository


def posted_digests(issue_comments: list[dict[str, Any]], *, family: bool = False) -> list[PostedDigest]:
    """Our digest comments, oldest first, recognised by the hidden week marker.

    A PR's own digests and family digests are told apart by their markers, so both kinds can
    share a thread without one counting as the other's "already posted this week"."""
    found: list[PostedDigest] = []
    for comment in issue_comments:
        body = comment.get("body") or ""
        figures: DigestFigures | None = None
        members: Mapping[str, DigestFigures] | None = None
        if family:
            parsed_family = parse_family_digest_marker(body)
            if parsed_family is None:
                continue
            week, members = parsed_family
        else:
            parsed = parse_digest_marker(body)
            if parsed is None:
                continue
            week, figures = parsed
        found.append(
            PostedDigest(
                comment_id=int(comment["id"]),
                node_id=str(comment.get("node_id") or ""),
                week=week,
                figures=figures,
                minimized=_minimized_flag(comment),
                member_figures=members,
            )
        )
    return sorted(found, key=lambda digest: digest.comment_id)


def digest_for_week(digests: list[PostedDigest], week: str) -> PostedDigest | None:
    """This week's digest: the oldest copy, so every scheduler agrees on which one stays."""
    return next((digest for digest in digests if digest.week == week), None)


def previous_digest(digests: list[PostedDigest], week: str) -> PostedDigest | None:
    """The latest digest of an earlier week (ISO week ids sort chronologically)."""
    earlier = [digest for digest in digests if digest.week < week]
    return max(earlier, key=lambda digest: (digest.week, digest.comment_id), default=None)


def _minimized_flag(comment: Mapping[str, Any]) -> bool | None:
    # Newer REST responses carry `minimized: {reason}` (null when not minimized).
    if "minimized" not in comment:
        return None
    return bool(comment["minimized"])


# ---------------------------------------------------------------------------------------
# The publish decision: what a poster does, before and after it posts
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestLook:
    """What one look at a thread's comments says about `week`'s digest."""

    week: str
    this_week: PostedDigest | None  # this week's digest, oldest copy, when it is already there
    previous: PostedDigest | None  # the latest earlier digest: its figures feed "what changed"
    family: bool = False  # a look for family digests, which carry their own marker

    @property
    def should_post(self) -> bool:
        """Post only when this week's marker is not on the thread yet."""
        return self.this_week is None

    @property
    def previous_figures(self) -> DigestFigures | None:
        return self.previous.figures if self.previous is not None else None

    @property
    def previous_member_figures(self) -> dict[str, DigestFigures] | None:
        """A family digest's figures per repository from the latest earlier week."""
        return dict(self.previous.member_figures or {}) if self.previous is not None else None


def look_for_digest(issue_comments: list[dict[str, Any]], week: str, *, family: bool = False) -> DigestLook:
    """The first look, before rendering: is `week`'s digest there, and which one came before."""
    found = posted_digests(issue_comments, family=family)
    return DigestLook(
        week=week, this_week=digest_for_week(found, week), previous=previous_digest(found, week), family=family
    )


@dataclass(frozen=True)
class AfterPosting:
    """What to tidy once this run's comment is up: the second look decides."""

    kept: PostedDigest | None  # this week's digest that stays: the oldest copy
    posted: PostedDigest | None  # `kept`, when it is the comment this run created
    delete: tuple[PostedDigest, ...]  # every later copy of this week's digest
    minimize: tuple[PostedDigest, ...]  # earlier weeks' digests still shown in full


def tidy_after_posting(issue_comments: list[dict[str, Any]], look: DigestLook, created_id: int) -> AfterPosting:
    """The second look, after posting comment `created_id` on what `look` found empty.

    Two schedulers can both look, see nothing and both post. Each keeps the oldest copy and
    deletes the rest, so they delete the same ones and converge on one comment whatever the
    interleaving. A digest without a node id cannot be minimized (GraphQL needs it)."""
    week = look.week
    found = posted_digests(issue_comments, family=look.family)
    this_week = [digest for digest in found if digest.week == week]
    kept = this_week[0] if this_week else None
    return AfterPosting(
        kept=kept,
        posted=kept if kept is not None and kept.comment_id == created_id else None,
        delete=tuple(this_week[1:]),
        minimize=tuple(
            digest for digest in found if digest.week < week and digest.minimized is not True and digest.node_id
        ),
    )
