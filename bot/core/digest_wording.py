"""The weekly digest of one threat-model PR: a pure renderer from records + document to one
Markdown comment.

Nothing here reads the clock, the network or files: the week and every "days idle" figure
come from the `now` the caller passes, so the same inputs always give byte-identical text.

The digest carries its own figures in a hidden marker, so next week's digest can compute
"what changed" from GitHub alone: the poster finds last week's comment and passes its
figures back as `previous` (digest_publication decides which comment that is).

Mentions: a digest must not spam. Only maintainers are ever @-mentioned, only where the
digest asks something of them (the "awaited" lists), and each at most once per comment;
everyone else is named as `login` in backticks. Free text copied from records (titles,
follow-up titles, wave names) has its `@` neutralised so it can never mention anyone.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.digest_figures import DigestFigures
from bot.core.digest_marker import digest_marker
from bot.core.digest_review import DigestReview, awaited_people, build_review, wave_progress
from bot.core.digest_schedule import iso_week
from bot.core.digest_sections import (
    bullets,
    change_lines,
    changes_title,
    followup_lines,
    footer,
    headline,
    next_step_lines,
    percent,
    plural,
    progress_bar,
    question_link,
    record_title,
    section,
    stale_lines,
    stale_title,
    status_line,
    tally_pie,
)
from bot.core.markdown import Mentions, inline_text
from bot.core.model import Document
from bot.core.records import Record


@dataclass(frozen=True)
class Digest:
    """A rendered digest, single or family, with the figures its marker carries."""

    markdown: str  # the whole comment, marker first
    figures: DigestFigures  # this week's; for a family, the sum with ids as "repo:Q9"
    week: str
    mentioned: tuple[str, ...]  # logins @-mentioned, in order of appearance
    member_figures: dict[str, DigestFigures] = field(default_factory=dict)  # family only, by repo


def render_digest(
    records: Sequence[Record],
    document: Document | None,
    previous: DigestFigures | None,
    now: datetime,
    *,
    maintainers: Collection[str],
    thread_url: Callable[[Record], str | None] | None = None,
    stale_days: int = 14,
    pr_url: str | None = None,
    week: str | None = None,
) -> Digest:
    """The weekly digest for one threat-model PR, marker first.

    `week` defaults to the UTC ISO week of `now`; a scheduler working in another timezone
    passes its own, so the marker names the week it scheduled."""
    review = build_review(records, document, previous, now, thread_url, pr_url, stale_days, week or iso_week(now))
    mentions = Mentions(maintainers)
    # The awaited list is rendered first: it is where a mention is worth its notification.
    awaited = _awaited_section(review, mentions)
    figures = review.figures
    subject = document.path if document is not None else (review.records[0].document if review.records else None)
    lines = [
        digest_marker(figures.week, figures),
        f"## Threat-model review digest — {figures.week}",
        "",
        f"**{headline(figures)}**" + (f" in `{inline_text(subject, 120)}`" if subject else "") + f" ({status_line(figures)})",
        "",
        *_progress_section(review),
        *section("Provenance tally", _tally_section(review)),
        *section(changes_title(review), bullets(change_lines(review, mentions))),
        *section("Awaiting answers", awaited),
        *section(stale_title(review), bullets(stale_lines(review, mentions)) or ["Nothing stale."]),
        *section("Follow-up issues", bullets(followup_lines(review)) or ["None recorded."]),
        *section("Proposed next steps", bullets(next_step_lines(review)) or ["Nothing to propose this week."]),
        footer(review),
    ]
    return Digest(markdown="\n".join(lines) + "\n", figures=figures, week=figures.week, mentioned=tuple(mentions.mentioned))


def _progress_section(review: DigestReview) -> list[str]:
    figures = review.figures
    if figures.total == 0:
        return []
    rows = ["| Wave | Answered | Progress |", "|---|---:|---|"]
    for wave, done, total in wave_progress(review):
        rows.append(f"| {inline_text(wave, 70)} | {done} of {total} | `{progress_bar(done, total)}` {percent(done, total)}% |")
    overall = f"`{progress_bar(figures.answered, figures.total)}` {percent(figures.answered, figures.total)}%"
    return section("Progress", [overall, "", *rows])


def _tally_section(review: DigestReview) -> list[str]:
    document = review.document
    if document is None:
        return ["_The document could not be read this week, so there is no tally._"]
    return tally_pie(document.tally.claim_counts, "Provenance of the claims")


def _awaited_section(review: DigestReview, mentions: Mentions) -> list[str]:
    owed = awaited_people(review)
    if not owed:
        return ["Nobody is awaited."]
    lines = []
    for login, questions in owed:
        lines.append(f"- {mentions.ask(login)} — {plural(len(questions), 'question')}:")
        lines.extend(f"  - {question_link(review, record)} {record_title(record)}" for record in questions)
    return lines
