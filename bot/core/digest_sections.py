"""The wording both digests share: headline, changes since last week, quiet questions,
follow-ups, next steps, the provenance pie, and the small text helpers under them.

Free text copied from records (titles, follow-up titles, wave names) goes through
`inline_text`, so it can never mention anyone; logins go through the caller's `Mentions`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.core.digest_figures import DigestFigures, question_sort_key
from bot.core.digest_review import UNSETTLED, DigestReview, settlers, stale_questions
from bot.core.markdown import Mentions, clean_login, inline_text
from bot.core.model import TagKind
from bot.core.records import FollowUpState, ProposalState, Record, Status

PROGRESS_BAR_WIDTH = 20
TALLY_ORDER = tuple(kind.value for kind in TagKind)


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


def percent(done: int, total: int) -> int:
    return done * 100 // total if total else 0  # floor: 99.9% is not 100%


def link_or_label(label: str, url: str | None) -> str:
    return f"[{label}]({url})" if url else label


def record_title(record: Record) -> str:
    return inline_text(record.title or record.question or record.id)


def joined(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def plural(count: int, word: str, plural_form: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural_form or word + 's')}"


def question_link(review: DigestReview, record: Record) -> str:
    return link_or_label(inline_text(record.id, 20), review.link(record))


def headline(figures: DigestFigures) -> str:
    noun = "question" if figures.total == 1 else "questions"
    return f"{figures.answered} of {figures.total} {noun} answered"


def status_line(figures: DigestFigures) -> str:
    parts = [f"{status.value} {figures.count(status)}" for status in Status if figures.count(status)]
    return " · ".join(parts) if parts else "no questions tracked yet"


def change_lines(review: DigestReview, names: Mentions) -> list[str]:
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
        lines.append("Reopened: " + ", ".join(question_link(review, by_id[qid]) for qid in reopened))
    lines.extend(_tally_changes(previous.tally, current.tally))
    return lines or [f"No change since {previous.week}."]


def _changed_question(review: DigestReview, record: Record | None, question_id: str, names: Mentions) -> str:
    if record is None:
        return inline_text(question_id, 20)
    authors = settlers(record)
    by = f" (by {joined([names.name(login) for login in authors])})" if authors else ""
    return question_link(review, record) + by


def _tally_changes(before: Mapping[str, int], after: Mapping[str, int]) -> list[str]:
    if not before or not after:
        return []  # no document one of the weeks: nothing honest to compare
    promoted = after.get(TagKind.MAINTAINER.value, 0) - before.get(TagKind.MAINTAINER.value, 0)
    kinds = tally_kinds(before, after)
    moved = [f"{kind} {before.get(kind, 0)} → {after.get(kind, 0)}" for kind in kinds if before.get(kind, 0) != after.get(kind, 0)]
    if not moved:
        return []
    if promoted > 0:
        return [f"{plural(promoted, 'tag')} promoted to maintainer ({', '.join(moved)})"]
    return [f"Provenance tally: {', '.join(moved)}"]


def tally_kinds(*tallies: Mapping[str, int]) -> list[str]:
    extra = sorted({kind for tally in tallies for kind in tally} - set(TALLY_ORDER))
    return [*TALLY_ORDER, *extra]


def followup_lines(review: DigestReview) -> list[str]:
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
            item = link_or_label(label, followup.url)
        else:
            item = title
        state = "proposed, no issue opened yet" if followup.state is FollowUpState.PROPOSED and not followup.url else followup.state.value
        lines.append(f"{item} — {state} ({question_link(review, record)}, {followup.kind})")
    return lines


def next_step_lines(review: DigestReview) -> list[str]:
    steps: list[str] = []
    for record in review.records:
        waiting = [proposal for proposal in record.proposals if proposal.state is ProposalState.PROPOSED]
        if waiting:
            steps.append(f"{question_link(review, record)}: {plural(len(waiting), 'proposal')} waiting for `/accept`")
    answered = [record for record in review.records if record.status is Status.ANSWERED]
    if answered:
        steps.append(
            f"confirm, correct or strike {plural(len(answered), 'answered question')} with no binding answer yet: "
            + ", ".join(question_link(review, record) for record in answered)
        )
    to_fold = [record for record in review.records if record.status in (Status.CONFIRMED, Status.CORRECTED, Status.STRUCK)]
    if to_fold:
        kinds = [
            plural(sum(record.status is status for record in to_fold), status.value, status.value)
            for status in (Status.CONFIRMED, Status.CORRECTED, Status.STRUCK)
            if any(record.status is status for record in to_fold)
        ]
        steps.append(
            f"fold {joined(kinds)} {'question' if len(to_fold) == 1 else 'questions'} into the document: "
            + ", ".join(question_link(review, record) for record in to_fold)
        )
    unopened = [
        (record, followup)
        for record in review.records
        for followup in record.followups
        if followup.state is FollowUpState.PROPOSED and not followup.url
    ]
    if unopened:
        steps.append(
            f"open {plural(len(unopened), 'proposed follow-up issue')} with `/followup`: "
            + ", ".join(dict.fromkeys(question_link(review, record) for record, _ in unopened))
        )
    steps.extend(_document_steps(review))
    return steps


def _document_steps(review: DigestReview) -> list[str]:
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
            f"import {plural(len(missing), 'question')} the document has but no record tracks: "
            + ", ".join(inline_text(question_id, 20) for question_id in sorted(missing, key=question_sort_key))
        )
    return steps


def tally_pie(tally: Mapping[str, int], title: str) -> list[str]:
    """A Mermaid pie (GitHub renders it in comments). Zero slices are left out: Mermaid
    draws nothing useful for them."""
    slices = [(kind, tally.get(kind, 0)) for kind in tally_kinds(tally) if tally.get(kind, 0) > 0]
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


def tally_text(tally: Mapping[str, int]) -> str:
    return " · ".join(f"{kind} {tally.get(kind, 0)}" for kind in tally_kinds(tally))


def section(title: str, body: list[str]) -> list[str]:
    return [f"### {title}", "", *body, ""]


def bullets(lines: Iterable[str]) -> list[str]:
    return [f"- {line}" for line in lines]


def changes_title(review: DigestReview) -> str:
    return f"Since {review.previous.week}" if review.previous is not None else "Since last week"


def stale_title(review: DigestReview) -> str:
    return f"No activity for {review.stale_days}+ days"


def stale_lines(review: DigestReview, names: Mentions) -> list[str]:
    lines = []
    for record, idle in stale_questions(review):
        quiet = "no activity recorded" if idle is None else f"{plural(idle, 'day')} without activity"
        owed = [clean_login(login) for login in record.awaiting if login.strip("@ ")]
        waiting = f", awaiting {joined([names.name(login) for login in dict.fromkeys(owed)])}" if owed and record.status in UNSETTLED else ""
        lines.append(f"{question_link(review, record)} {record_title(record)} — {quiet}{waiting}")
    return lines


def footer(review: DigestReview) -> str:
    stamp = review.now.strftime("%Y-%m-%d %H:%M UTC")
    return f"<sub>Week {review.figures.week}, as of {stamp}. Commands: `/questions help`.</sub>"
