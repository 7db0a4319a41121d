"""The family digest: one weekly comment for a PMC's canonical model and its satellite delta
models, a summary row per repository and then each repository's sections compacted.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.core.digest_figures import DigestFigures, family_figures
from bot.core.digest_marker import family_digest_marker
from bot.core.digest_review import DigestReview, awaited_people, build_review, wave_progress
from bot.core.digest_schedule import iso_week
from bot.core.digest_sections import (
    bullets,
    change_lines,
    changes_title,
    followup_lines,
    footer,
    headline,
    joined,
    link_or_label,
    next_step_lines,
    percent,
    plural,
    progress_bar,
    question_link,
    section,
    stale_lines,
    stale_title,
    status_line,
    tally_pie,
    tally_text,
)
from bot.core.digest_wording import Digest
from bot.core.markdown import Mentions, inline_text
from bot.core.model import Document
from bot.core.records import Record


class FamilyRole(str, Enum):
    """The canonical repository comes first in every family digest; satellites follow."""

    CANONICAL = "canonical"
    SATELLITE = "satellite"


@dataclass(frozen=True)
class FamilyMember:
    """One repository of a PMC's family: the canonical model or a satellite delta model."""

    repo: str  # "apache/cloudstack-go"
    role: FamilyRole
    records: Sequence[Record]
    document: Document | None
    pr_url: str | None = None
    thread_url: Callable[[Record], str | None] | None = None
    missing: str | None = None  # why there is nothing to show, e.g. "no threat-model PR tracked"


def render_family_digest(
    members: Sequence[FamilyMember],
    now: datetime,
    *,
    maintainers: Collection[str],
    previous: Mapping[str, DigestFigures] | None,
    stale_days: int = 14,
    week: str | None = None,
) -> Digest:
    """One digest for a PMC's repositories: a summary row per repository with what it still
    owes, then each repository's sections compacted. Mentions are shared across the whole
    comment, so a maintainer awaited in three repositories is still mentioned once.
    `week` defaults to the UTC ISO week of `now`, as for render_digest."""
    week = week or iso_week(now)
    ordered = sorted(members, key=lambda member: (member.role is not FamilyRole.CANONICAL, member.repo))
    reviews = [
        (
            member,
            build_review(
                member.records,
                member.document,
                (previous or {}).get(member.repo),
                now,
                member.thread_url,
                member.pr_url,
                stale_days,
                week,
            ),
        )
        for member in ordered
    ]
    mentions = Mentions(maintainers)
    by_repo = {member.repo: review.figures for member, review in reviews}
    combined = family_figures(week, by_repo)
    table = _family_table(reviews, mentions)
    lines = [
        family_digest_marker(week, by_repo),
        f"## Threat-model review — family digest, {week}",
        "",
        f"**{headline(combined)} across {plural(len(reviews), 'repository', 'repositories')}**"
        + _family_shape(ordered),
        "",
        *table,
        "",
        *section("Provenance tally across the family", tally_pie(combined.tally, "Provenance tags, all repositories")),
    ]
    for member, review in reviews:
        lines.extend(_member_section(member, review, mentions))
    lines.append(footer(reviews[0][1]) if reviews else f"<sub>Week {week}.</sub>")
    return Digest(
        markdown="\n".join(lines) + "\n",
        figures=combined,
        week=week,
        mentioned=tuple(mentions.mentioned),
        member_figures=by_repo,
    )


def _family_shape(members: Sequence[FamilyMember]) -> str:
    canonical = [member.repo for member in members if member.role is FamilyRole.CANONICAL]
    satellites = len(members) - len(canonical)
    if not canonical:
        return ""
    return f" (`{joined([inline_text(repo, 100) for repo in canonical])}` and {plural(satellites, 'satellite')})"


def _family_table(reviews: Sequence[tuple[FamilyMember, DigestReview]], mentions: Mentions) -> list[str]:
    rows = ["| Repository | Role | Answered | Progress | Still owes |", "|---|---|---:|---|---|"]
    for member, review in reviews:
        repo_cell = link_or_label(f'`{inline_text(member.repo, 100)}`', member.pr_url)
        if member.missing:
            rows.append(f"| {repo_cell} | {member.role.value} | — | — | {inline_text(member.missing, 200)} |")
            continue
        figures = review.figures
        owes = "; ".join(
            f"{mentions.ask(login)}: " + ", ".join(question_link(review, record) for record in questions)
            for login, questions in awaited_people(review)
        )
        rows.append(
            f"| {repo_cell} | {member.role.value} "
            f"| {figures.answered} of {figures.total} "
            f"| `{progress_bar(figures.answered, figures.total)}` {percent(figures.answered, figures.total)}% "
            f"| {owes or 'nothing'} |"
        )
    return rows


def _member_section(member: FamilyMember, review: DigestReview, mentions: Mentions) -> list[str]:
    heading = f"{inline_text(member.repo, 100)} ({member.role.value})"
    if member.missing:
        return section(heading, [f"_{inline_text(member.missing, 200)}_"])
    figures = review.figures
    waves = ", ".join(f"{inline_text(wave, 40)} {done}/{total}" for wave, done, total in wave_progress(review))
    tally = tally_text(review.document.tally.claim_counts) if review.document is not None else "no document this week"
    items = [
        f"**{headline(figures)}** ({status_line(figures)})",
        f"**Waves:** {waves or 'none'}",
        f"**Tally:** {tally}",
        f"**{changes_title(review)}:** " + "; ".join(change_lines(review, mentions)),
    ]
    for label, entries in (
        (stale_title(review), stale_lines(review, mentions)),
        ("Follow-ups", followup_lines(review)),
        ("Next", next_step_lines(review)),
    ):
        if entries:
            items.append(f"**{label}:** " + "; ".join(entries))
    return section(heading, bullets(items))
