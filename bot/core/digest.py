"""The weekly status digest: a pure renderer from records + document to one Markdown comment.

Nothing here reads the clock, the network or files: the week and every "days idle" figure
come from the `now` the caller passes, so the same inputs always give byte-identical text.

The digest carries its own figures in a hidden marker, so next week's digest can compute
"what changed" from GitHub alone (the poster finds last week's comment, parses its marker
and passes the figures back as `previous`). The marker also carries the ISO week, which is
what keeps two schedulers from posting twice for one week: look for the marker first.

Mentions: a digest must not spam. Only maintainers are ever @-mentioned, only where the
digest asks something of them (the "awaited" lists), and each at most once per comment;
everyone else is named as `login` in backticks. Free text copied from records (titles,
follow-up titles, wave names) has its `@` neutralised so it can never mention anyone.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.core.markdown import Mentions, clean_login, inline_text
from bot.core.model import Document, TagKind
from bot.core.records import FollowUpState, ProposalState, Record, Status
from bot.core.settings import WEEKDAYS, MaintainerSettings

MARKER_PREFIX = "threat-model-bot:digest"
FAMILY_MARKER_PREFIX = "threat-model-bot:family-digest"
FIGURES_VERSION = 1
PROGRESS_BAR_WIDTH = 20

# Statuses that settle a question: it needs no more answers, only folding (or is folded).
SETTLED = (Status.CONFIRMED, Status.CORRECTED, Status.STRUCK, Status.FOLDED)
# Statuses in which somebody still owes an answer.
UNSETTLED = (Status.OPEN, Status.ANSWERED)
TALLY_ORDER = tuple(kind.value for kind in TagKind)
NO_WAVE = "No wave"  # the progress row of questions the document puts in no wave

# GitHub logins: alphanumerics and single hyphens, at most 39 characters.
T = TypeVar("T")
_WEEK = r"\d{4}-W\d{2}"
_B64 = r"[A-Za-z0-9_-]+=*"


# ---------------------------------------------------------------------------------------
# Figures: what the digest remembers from one week to the next
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Week ids and the hidden marker
# ---------------------------------------------------------------------------------------


def iso_week(now: datetime) -> str:
    """`2026-11-26T10:00Z` -> "2026-W48" (ISO week-numbering year, in UTC)."""
    year, week, _ = _as_utc(now).isocalendar()
    return f"{year}-W{week:02d}"


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


# ---------------------------------------------------------------------------------------
# The rendered result
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    markdown: str  # the whole comment, marker first
    figures: DigestFigures  # this week's; for a family, the sum with ids as "repo:Q9"
    week: str
    mentioned: tuple[str, ...]  # logins @-mentioned, in order of appearance
    member_figures: dict[str, DigestFigures] = field(default_factory=dict)  # family only, by repo


class FamilyRole(str, Enum):
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


# ---------------------------------------------------------------------------------------
# Small text helpers
# ---------------------------------------------------------------------------------------


def question_sort_key(question_id: str) -> tuple:
    """Natural order: Q8 < Q10 < Q14.R1."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", question_id))


def progress_bar(done: int, total: int, width: int = PROGRESS_BAR_WIDTH) -> str:
    """A fixed-width bar of full and light blocks. Never shows full before everything is
    done, nor empty once something is done, so the bar never contradicts the numbers."""
    if total <= 0:
        return "░" * width
    filled = done * width // total
    if done > 0 and filled == 0:
        filled = 1
    if done < total and filled == width:
        filled = width - 1
    return "█" * filled + "░" * (width - filled)


def _percent(done: int, total: int) -> int:
    return done * 100 // total if total else 0  # floor: 99.9% is not 100%


def _link(label: str, url: str | None) -> str:
    return f"[{label}]({url})" if url else label


def _title(record: Record) -> str:
    return inline_text(record.title or record.question or record.id)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)  # naive times are taken as UTC
    return moment.astimezone(timezone.utc)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return _as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _joined(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


# ---------------------------------------------------------------------------------------
# One repository's review, and what the sections compute from it
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Review:
    records: tuple[Record, ...]  # tracked (not retired), in natural id order
    known_ids: frozenset[str]  # every record's id, retired ones included
    document: Document | None
    figures: DigestFigures
    previous: DigestFigures | None
    link: Callable[[Record], str | None]
    now: datetime
    stale_days: int


def _review(
    records: Sequence[Record],
    document: Document | None,
    previous: DigestFigures | None,
    now: datetime,
    thread_url: Callable[[Record], str | None] | None,
    pr_url: str | None,
    stale_days: int,
    week: str,
) -> _Review:
    ordered = tuple(sorted(records, key=lambda record: question_sort_key(record.id)))
    return _Review(
        records=tuple(record for record in ordered if record.status is not Status.RETIRED),
        known_ids=frozenset(record.id for record in ordered),
        document=document,
        figures=digest_figures(ordered, document, week),
        previous=previous,
        link=_thread_linker(thread_url, pr_url),
        now=_as_utc(now),
        stale_days=stale_days,
    )


def _thread_linker(
    thread_url: Callable[[Record], str | None] | None, pr_url: str | None
) -> Callable[[Record], str | None]:
    """The caller's resolver, or the PR's own review-comment anchor when the record knows
    the first comment of its thread."""
    if thread_url is not None:
        return thread_url

    def from_pr(record: Record) -> str | None:
        if pr_url and record.thread is not None and record.thread.comment_id:
            return f"{pr_url.rstrip('/')}#discussion_r{record.thread.comment_id}"
        return None

    return from_pr


def _question_link(review: _Review, record: Record) -> str:
    return _link(inline_text(record.id, 20), review.link(record))


def _headline(figures: DigestFigures) -> str:
    noun = "question" if figures.total == 1 else "questions"
    return f"{figures.answered} of {figures.total} {noun} answered"


def _status_line(figures: DigestFigures) -> str:
    parts = [f"{status.value} {figures.count(status)}" for status in Status if figures.count(status)]
    return " · ".join(parts) if parts else "no questions tracked yet"


def _waves(review: _Review) -> list[tuple[str, int, int]]:
    """(wave, answered, total), in the document's wave order when there is a document (its
    numbering need not follow the waves), else in the order the waves' first questions appear."""
    by_wave: dict[str, list[Record]] = {}
    for record in review.records:
        by_wave.setdefault(record.wave or NO_WAVE, []).append(record)
    ordered = _in_document_order(list(by_wave), review.document) if review.document else list(by_wave)
    return [
        (wave, sum(record.status is not Status.OPEN for record in by_wave[wave]), len(by_wave[wave]))
        for wave in ordered
    ]


def _in_document_order(waves: list[str], document: Document) -> list[str]:
    """`waves` (in question order) sorted as the document lists them. A wave the document no
    longer lists (`retire: remove` took every question in it out of §14) stays right after the
    wave before it; questions without a wave come last."""
    rank = {wave: index for index, wave in enumerate(dict.fromkeys(q.wave for q in document.questions if q.wave))}
    keys: dict[str, tuple[int, int]] = {}
    previous = -1
    for wave in waves:
        if wave in rank:
            previous = rank[wave]
            keys[wave] = (previous, 0)
        else:
            keys[wave] = (len(rank), 1) if wave == NO_WAVE else (previous, 1)
    return sorted(waves, key=keys.__getitem__)  # stable: waves with one key keep their order


def _awaited(review: _Review) -> list[tuple[str, list[Record]]]:
    """Each awaited person once (logins compared case-insensitively) with every unsettled
    question they owe; most-owed first."""
    owed: dict[str, tuple[str, list[Record]]] = {}
    for record in review.records:
        if record.status not in UNSETTLED:
            continue
        for login in dict.fromkeys(clean_login(login) for login in record.awaiting if login.strip("@ ")):
            spelling, questions = owed.setdefault(login.lower(), (login, []))
            if record not in questions:
                questions.append(record)
    return sorted(owed.values(), key=lambda item: (-len(item[1]), item[0].lower()))


def _last_activity(record: Record) -> datetime | None:
    moments = [_parse_time(answer.at) for answer in record.answers] + [_parse_time(record.updated_at)]
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _stale(review: _Review) -> list[tuple[Record, int | None]]:
    """Unsettled questions idle for stale_days or more (None: no activity recorded at all),
    the longest idle first."""
    stale: list[tuple[Record, int | None]] = []
    for record in review.records:
        if record.status not in UNSETTLED:
            continue
        last = _last_activity(record)
        idle = None if last is None else max((review.now - last).days, 0)
        if idle is None or idle >= review.stale_days:
            stale.append((record, idle))
    return sorted(stale, key=lambda item: (-(item[1] if item[1] is not None else 1 << 30), question_sort_key(item[0].id)))


def _settlers(record: Record) -> list[str]:
    """Who settled a question: the binding answers' authors, else everyone who answered."""
    binding = [answer.author for answer in record.answers if answer.binding]
    return list(dict.fromkeys(binding or [answer.author for answer in record.answers]))


def _changes(review: _Review, names: Mentions) -> list[str]:
    previous, current = review.previous, review.figures
    if previous is None:
        return ["First digest: no earlier figures to compare with."]
    by_id = {record.id: record for record in review.records}
    lines: list[str] = []
    if (previous.answered, previous.total) != (current.answered, current.total):
        lines.append(
            f"Answered: {previous.answered} of {previous.total} → {current.answered} of {current.total}"
        )
    for label, now_ids, then_ids in (
        ("Newly confirmed", current.confirmed, previous.confirmed),
        ("Corrected", current.corrected, previous.corrected),
        ("Struck", current.struck, previous.struck),
        ("Folded into the document", current.folded, previous.folded),
    ):
        fresh = sorted(now_ids - then_ids, key=question_sort_key)
        if fresh:
            lines.append(f"{label}: " + ", ".join(_changed_question(review, by_id.get(qid), qid, names) for qid in fresh))
    reopened = sorted((previous.settled_ids() - current.settled_ids()) & by_id.keys(), key=question_sort_key)
    if reopened:
        lines.append("Reopened: " + ", ".join(_question_link(review, by_id[qid]) for qid in reopened))
    lines.extend(_tally_changes(previous.tally, current.tally))
    return lines or [f"No change since {previous.week}."]


def _changed_question(review: _Review, record: Record | None, question_id: str, names: Mentions) -> str:
    if record is None:
        return inline_text(question_id, 20)
    settlers = _settlers(record)
    by = f" (by {_joined([names.name(login) for login in settlers])})" if settlers else ""
    return _question_link(review, record) + by


def _tally_changes(before: Mapping[str, int], after: Mapping[str, int]) -> list[str]:
    if not before or not after:
        return []  # no document one of the weeks: nothing honest to compare
    promoted = after.get(TagKind.MAINTAINER.value, 0) - before.get(TagKind.MAINTAINER.value, 0)
    kinds = _tally_kinds(before, after)
    moved = [f"{kind} {before.get(kind, 0)} → {after.get(kind, 0)}" for kind in kinds if before.get(kind, 0) != after.get(kind, 0)]
    if not moved:
        return []
    if promoted > 0:
        return [f"{_plural(promoted, 'tag')} promoted to maintainer ({', '.join(moved)})"]
    return [f"Provenance tally: {', '.join(moved)}"]


def _tally_kinds(*tallies: Mapping[str, int]) -> list[str]:
    extra = sorted({kind for tally in tallies for kind in tally} - set(TALLY_ORDER))
    return [*TALLY_ORDER, *extra]


def _followups(review: _Review) -> list[str]:
    order = {FollowUpState.OPEN: 0, FollowUpState.PROPOSED: 1, FollowUpState.CLOSED: 2}
    entries = [
        (order.get(followup.state, 3), question_sort_key(record.id), index, record, followup)
        for record in review.records
        for index, followup in enumerate(record.followups)
    ]
    lines = []
    for _, _, _, record, followup in sorted(entries, key=lambda entry: entry[:3]):
        title = inline_text(followup.title)
        if followup.url:
            label = f"#{followup.number} {title}" if followup.number else title
            item = _link(label, followup.url)
        else:
            item = title
        state = "proposed, no issue opened yet" if followup.state is FollowUpState.PROPOSED and not followup.url else followup.state.value
        lines.append(f"{item} — {state} ({_question_link(review, record)}, {followup.kind})")
    return lines


def _next_steps(review: _Review) -> list[str]:
    steps: list[str] = []
    for record in review.records:
        waiting = [proposal for proposal in record.proposals if proposal.state is ProposalState.PROPOSED]
        if waiting:
            steps.append(f"{_question_link(review, record)}: {_plural(len(waiting), 'proposal')} waiting for `/accept`")
    answered = [record for record in review.records if record.status is Status.ANSWERED]
    if answered:
        steps.append(
            f"confirm, correct or strike {_plural(len(answered), 'answered question')} with no binding answer yet: "
            + ", ".join(_question_link(review, record) for record in answered)
        )
    to_fold = [record for record in review.records if record.status in (Status.CONFIRMED, Status.CORRECTED, Status.STRUCK)]
    if to_fold:
        kinds = [
            _plural(sum(record.status is status for record in to_fold), status.value, status.value)
            for status in (Status.CONFIRMED, Status.CORRECTED, Status.STRUCK)
            if any(record.status is status for record in to_fold)
        ]
        steps.append(
            f"fold {_joined(kinds)} {'question' if len(to_fold) == 1 else 'questions'} into the document: "
            + ", ".join(_question_link(review, record) for record in to_fold)
        )
    unopened = [
        (record, followup)
        for record in review.records
        for followup in record.followups
        if followup.state is FollowUpState.PROPOSED and not followup.url
    ]
    if unopened:
        steps.append(
            f"open {_plural(len(unopened), 'proposed follow-up issue')} with `/followup`: "
            + ", ".join(dict.fromkeys(_question_link(review, record) for record, _ in unopened))
        )
    steps.extend(_document_steps(review))
    return steps


def _document_steps(review: _Review) -> list[str]:
    document = review.document
    if document is None:
        return []
    steps = []
    if document.tally.disagreements:
        notes = "; ".join(inline_text(note) for note in document.tally.disagreements)
        steps.append(f"fix the stated provenance tally ({notes})")
    known = review.known_ids  # retired records count: the document may still be catching up
    missing = [question.id for question in document.questions if question.id not in known]
    if missing:
        steps.append(
            f"import {_plural(len(missing), 'question')} the document has but no record tracks: "
            + ", ".join(inline_text(question_id, 20) for question_id in sorted(missing, key=question_sort_key))
        )
    return steps


def _tally_pie(tally: Mapping[str, int], title: str) -> list[str]:
    """A Mermaid pie (GitHub renders it in comments). Zero slices are left out: Mermaid
    draws nothing useful for them."""
    slices = [(kind, tally.get(kind, 0)) for kind in _tally_kinds(tally) if tally.get(kind, 0) > 0]
    if not slices:
        return ["_No provenance tags counted._"]
    return [
        "```mermaid",
        "pie showData",
        f"    title {title}",
        *(f'    "{_mermaid_label(kind)}" : {count}' for kind, count in slices),
        "```",
    ]


def _mermaid_label(kind: str) -> str:
    # A double quote would end the Mermaid label early.
    return inline_text(kind, 40).replace('"', "'")


def _tally_text(tally: Mapping[str, int]) -> str:
    return " · ".join(f"{kind} {tally.get(kind, 0)}" for kind in _tally_kinds(tally))


# ---------------------------------------------------------------------------------------
# The single-repository digest
# ---------------------------------------------------------------------------------------


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
    review = _review(records, document, previous, now, thread_url, pr_url, stale_days, week or iso_week(now))
    mentions = Mentions(maintainers)
    # The awaited list is rendered first: it is where a mention is worth its notification.
    awaited = _awaited_section(review, mentions)
    figures = review.figures
    subject = document.path if document is not None else (review.records[0].document if review.records else None)
    lines = [
        digest_marker(figures.week, figures),
        f"## Threat-model review digest — {figures.week}",
        "",
        f"**{_headline(figures)}**" + (f" in `{inline_text(subject, 120)}`" if subject else "") + f" ({_status_line(figures)})",
        "",
        *_progress_section(review),
        *_section("Provenance tally", _tally_section(review)),
        *_section(_changes_title(review), _bullets(_changes(review, mentions))),
        *_section("Awaiting answers", awaited),
        *_section(f"No activity for {review.stale_days}+ days", _bullets(_stale_lines(review, mentions)) or ["Nothing stale."]),
        *_section("Follow-up issues", _bullets(_followups(review)) or ["None recorded."]),
        *_section("Proposed next steps", _bullets(_next_steps(review)) or ["Nothing to propose this week."]),
        _footer(review),
    ]
    return Digest(markdown="\n".join(lines) + "\n", figures=figures, week=figures.week, mentioned=tuple(mentions.mentioned))


def _section(title: str, body: list[str]) -> list[str]:
    return [f"### {title}", "", *body, ""]


def _bullets(lines: Iterable[str]) -> list[str]:
    return [f"- {line}" for line in lines]


def _changes_title(review: _Review) -> str:
    return f"Since {review.previous.week}" if review.previous is not None else "Since last week"


def _progress_section(review: _Review) -> list[str]:
    figures = review.figures
    if figures.total == 0:
        return []
    rows = ["| Wave | Answered | Progress |", "|---|---:|---|"]
    for wave, done, total in _waves(review):
        rows.append(f"| {inline_text(wave, 70)} | {done} of {total} | `{progress_bar(done, total)}` {_percent(done, total)}% |")
    overall = f"`{progress_bar(figures.answered, figures.total)}` {_percent(figures.answered, figures.total)}%"
    return _section("Progress", [overall, "", *rows])


def _tally_section(review: _Review) -> list[str]:
    document = review.document
    if document is None:
        return ["_The document could not be read this week, so there is no tally._"]
    return _tally_pie(document.tally.claim_counts, "Provenance of the claims")


def _awaited_section(review: _Review, mentions: Mentions) -> list[str]:
    owed = _awaited(review)
    if not owed:
        return ["Nobody is awaited."]
    lines = []
    for login, questions in owed:
        lines.append(f"- {mentions.ask(login)} — {_plural(len(questions), 'question')}:")
        lines.extend(f"  - {_question_link(review, record)} {_title(record)}" for record in questions)
    return lines


def _stale_lines(review: _Review, names: Mentions) -> list[str]:
    lines = []
    for record, idle in _stale(review):
        quiet = "no activity recorded" if idle is None else f"{_plural(idle, 'day')} without activity"
        owed = [clean_login(login) for login in record.awaiting if login.strip("@ ")]
        waiting = f", awaiting {_joined([names.name(login) for login in dict.fromkeys(owed)])}" if owed and record.status in UNSETTLED else ""
        lines.append(f"{_question_link(review, record)} {_title(record)} — {quiet}{waiting}")
    return lines


def _footer(review: _Review) -> str:
    stamp = review.now.strftime("%Y-%m-%d %H:%M UTC")
    return f"<sub>Week {review.figures.week}, as of {stamp}. Commands: `/questions help`.</sub>"


def maintainer_logins(records: Iterable[Record], settings: MaintainerSettings) -> set[str]:
    """Who may be @-mentioned: the configured logins, and everyone who answered with a
    maintainer's author association. Nobody else is ever pinged by a digest."""
    logins = set(settings.logins)
    associations = {association.upper() for association in settings.associations}
    for record in records:
        logins.update(answer.author for answer in record.answers if answer.association.upper() in associations)
    return logins


# ---------------------------------------------------------------------------------------
# The family digest: one canonical model and its satellite delta models
# ---------------------------------------------------------------------------------------


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
            _review(
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
    combined = _combined_figures(week, by_repo)
    table = _family_table(reviews, mentions)
    lines = [
        family_digest_marker(week, by_repo),
        f"## Threat-model review — family digest, {week}",
        "",
        f"**{_headline(combined)} across {_plural(len(reviews), 'repository', 'repositories')}**"
        + _family_shape(ordered),
        "",
        *table,
        "",
        *_section("Provenance tally across the family", _tally_pie(combined.tally, "Provenance tags, all repositories")),
    ]
    for member, review in reviews:
        lines.extend(_member_section(member, review, mentions))
    lines.append(_footer(reviews[0][1]) if reviews else f"<sub>Week {week}.</sub>")
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
    return f" (`{_joined([inline_text(repo, 100) for repo in canonical])}` and {_plural(satellites, 'satellite')})"


def _combined_figures(week: str, by_repo: Mapping[str, DigestFigures]) -> DigestFigures:
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


def _family_table(reviews: Sequence[tuple[FamilyMember, _Review]], mentions: Mentions) -> list[str]:
    rows = ["| Repository | Role | Answered | Progress | Still owes |", "|---|---|---:|---|---|"]
    for member, review in reviews:
        repo_cell = _link(f'`{inline_text(member.repo, 100)}`', member.pr_url)
        if member.missing:
            rows.append(f"| {repo_cell} | {member.role.value} | — | — | {inline_text(member.missing, 200)} |")
            continue
        figures = review.figures
        owes = "; ".join(
            f"{mentions.ask(login)}: " + ", ".join(_question_link(review, record) for record in questions)
            for login, questions in _awaited(review)
        )
        rows.append(
            f"| {repo_cell} | {member.role.value} "
            f"| {figures.answered} of {figures.total} "
            f"| `{progress_bar(figures.answered, figures.total)}` {_percent(figures.answered, figures.total)}% "
            f"| {owes or 'nothing'} |"
        )
    return rows


def _member_section(member: FamilyMember, review: _Review, mentions: Mentions) -> list[str]:
    heading = f"{inline_text(member.repo, 100)} ({member.role.value})"
    if member.missing:
        return _section(heading, [f"_{inline_text(member.missing, 200)}_"])
    figures = review.figures
    waves = ", ".join(f"{inline_text(wave, 40)} {done}/{total}" for wave, done, total in _waves(review))
    tally = _tally_text(review.document.tally.claim_counts) if review.document is not None else "no document this week"
    items = [
        f"**{_headline(figures)}** ({_status_line(figures)})",
        f"**Waves:** {waves or 'none'}",
        f"**Tally:** {tally}",
        f"**{_changes_title(review)}:** " + "; ".join(_changes(review, mentions)),
    ]
    for label, entries in (
        (f"No activity for {review.stale_days}+ days", _stale_lines(review, mentions)),
        ("Follow-ups", _followups(review)),
        ("Next", _next_steps(review)),
    ):
        if entries:
            items.append(f"**{label}:** " + "; ".join(entries))
    return _section(heading, _bullets(items))


# ---------------------------------------------------------------------------------------
# Digests already on the PR: which one is this week's, which one was last week's
# ---------------------------------------------------------------------------------------


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
# When the weekly digest is due
# ---------------------------------------------------------------------------------------

def digest_due(day: str, at: str, timezone_name: str, now: datetime) -> str | None:
    """This ISO week's id once its configured day and time have passed in its timezone, else None.

    The week is the one of the local date, so a digest set for Monday 09:00 in Tokyo belongs
    to the Tokyo week even while it is still Sunday in UTC.
    """
    local = _as_utc(now).astimezone(ZoneInfo(timezone_name))
    hours, minutes = (int(part) for part in at.split(":"))
    monday = local.date() - timedelta(days=local.weekday())
    scheduled = datetime.combine(monday + timedelta(days=WEEKDAYS.index(day.lower())), time(hours, minutes), tzinfo=local.tzinfo)
    if local < scheduled:
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"
