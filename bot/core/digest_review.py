"""One repository's review as a digest sees it, and what its sections compute from it:
progress by wave, who is awaited, which questions went quiet, who settled what, and who may
be mentioned. Data only; the wording lives in digest_sections.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.digest_figures import DigestFigures, digest_figures, question_sort_key
from bot.core.digest_schedule import as_utc
from bot.core.markdown import clean_login
from bot.core.model import Document
from bot.core.records import Record, Status
from bot.core.settings import MaintainerSettings

# Statuses in which somebody still owes an answer.
UNSETTLED = (Status.OPEN, Status.ANSWERED)
NO_WAVE = "No wave"  # the progress row of questions the document puts in no wave


@dataclass(frozen=True)
class DigestReview:
    """What every section of a digest reads: one repository's records and document, this week's
    and last week's figures, and the moment the digest describes."""

    records: tuple[Record, ...]  # tracked (not retired), in natural id order
    known_ids: frozenset[str]  # every record's id, retired ones included
    document: Document | None
    figures: DigestFigures
    previous: DigestFigures | None
    link: Callable[[Record], str | None]
    now: datetime
    stale_days: int


def build_review(
    records: Sequence[Record],
    document: Document | None,
    previous: DigestFigures | None,
    now: datetime,
    thread_url: Callable[[Record], str | None] | None,
    pr_url: str | None,
    stale_days: int,
    week: str,
) -> DigestReview:
    ordered = tuple(sorted(records, key=lambda record: question_sort_key(record.id)))
    return DigestReview(
        records=tuple(record for record in ordered if record.status is not Status.RETIRED),
        known_ids=frozenset(record.id for record in ordered),
        document=document,
        figures=digest_figures(ordered, document, week),
        previous=previous,
        link=_thread_linker(thread_url, pr_url),
        now=as_utc(now),
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


def wave_progress(review: DigestReview) -> list[tuple[str, int, int]]:
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


def awaited_people(review: DigestReview) -> list[tuple[str, list[Record]]]:
    """Each awaited person once (logins compared case-insensitively) with every unsettled
    question they owe; most-owed first."""
    owed: dict[str, tuple[str, list[Record]]] = {}
    for record in review.records:
        if record.status not in UNSETTLED:
            continue
        for login in dict.fromkeys(clean_login(login) for login in record.awaiting if login.strip("@ ")):
            _spelling, questions = owed.setdefault(login.lower(), (login, []))
            if record not in questions:
                questions.append(record)
    return sorted(owed.values(), key=lambda item: (-len(item[1]), item[0].lower()))


def last_activity(record: Record) -> datetime | None:
    moments = [_parse_time(answer.at) for answer in record.answers] + [_parse_time(record.updated_at)]
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def stale_questions(review: DigestReview) -> list[tuple[Record, int | None]]:
    """Unsettled questions idle for stale_days or more (None: no activity recorded at all),
    the longest idle first."""
    stale: list[tuple[Record, int | None]] = []
    for record in review.records:
        if record.status not in UNSETTLED:
            continue
        last = last_activity(record)
        idle = None if last is None else max((review.now - last).days, 0)
        if idle is None or idle >= review.stale_days:
            stale.append((record, idle))
    return sorted(stale, key=lambda item: (-(item[1] if item[1] is not None else 1 << 30), question_sort_key(item[0].id)))


def settlers(record: Record) -> list[str]:
    """Who settled a question: the binding answers' authors, else everyone who answered."""
    binding = [answer.author for answer in record.answers if answer.binding]
    return list(dict.fromkeys(binding or [answer.author for answer in record.answers]))


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def maintainer_logins(records: Iterable[Record], settings: MaintainerSettings) -> set[str]:
    """Who may be @-mentioned: the configured logins, and everyone who answered with a
    maintainer's author association. Nobody else is ever pinged by a digest."""
    logins = set(settings.logins)
    associations = {association.upper() for association in settings.associations}
    for record in records:
        logins.update(answer.author for answer in record.answers if answer.association.upper() in associations)
    return logins
