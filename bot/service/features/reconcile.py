"""Heal what webhooks missed: rebuild a PR's records from its whole history.

GitHub does not retry failed deliveries, and sends none at all for reactions. So after a
restart, and on a schedule, the service lists the PR's comments, rebuilds the records as if
every webhook had arrived (the same pure fold the webhooks use), takes a maintainer's 👍 on
a notice as `/accept`, and reports what changed.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.answers import accept_proposals, instant
from bot.core.conversation import Comment, rebuild
from bot.core.records import RecordError
from bot.core.settings import RepoSettings
from bot.github import pulls as github
from bot.github.normalise import comment_from_issue_comment, comment_from_review, comment_from_review_comment
from bot.service.features.folding import fold, resolve_folded_threads
from bot.service.features.followup_issues import open_followups
from bot.service.features.maintainers import UNKNOWN, is_maintainer
from bot.service.features.replies import known_maintainers, settings_and_pull
from bot.service.features.thread_notices import remember_notices, thread_notice_body, upsert_thread_notice
from bot.service.features.tracked_pulls import TrackedPull
from bot.service.runtime.handler_context import Context
from bot.service.runtime.unreadable_comments import known_unreadable, note_unreadable_comment

_NORMALISE = {
    "review_comment": comment_from_review_comment,
    "issue_comment": comment_from_issue_comment,
    "review": comment_from_review,
}
APPROVING_REACTIONS = frozenset({"+1"})


@dataclass
class Healed:
    number: int
    changes: list[str] = field(default_factory=list)
    accepted_by_reaction: list[str] = field(default_factory=list)
    folded: tuple[str, ...] = ()
    notices_refreshed: list[str] = field(default_factory=list)


async def reconcile_pull(ctx: Context, number: int) -> Healed | None:
    found = await settings_and_pull(ctx, number)
    if found is None:
        return None
    settings, pull = found
    comments = await _history(ctx, number)
    remember_notices(pull, comments)
    people = [
        comment for comment in comments
        if not comment.author_is_bot and comment.id not in pull.state.deleted_comments and not known_unreadable(pull.state, comment)
    ]
    maintainers = {
        (comment.author, comment.association): await is_maintainer(ctx, settings.maintainers, comment.author, comment.association)
        for comment in people
    }
    before = _snapshot(pull.records)
    outcomes = rebuild(
        pull.records,
        people,
        is_maintainer=lambda comment: maintainers[(comment.author, comment.association)],
        document_path=pull.state.document_path,
        spans=pull.state.spans,
        threads=pull.state.threads,
    )
    by_id = {comment.id: comment for comment in people}
    for outcome in outcomes:
        if outcome.unreadable is not None:
            note_unreadable_comment(ctx, pull.state, by_id[outcome.comment_id], outcome.unreadable)
    healed = Healed(number)
    if not settings.dry_run:
        # A follow-up a maintainer asked for that GitHub failed to open (a 5xx, a timeout) is
        # retried here; open_followups skips those already opened and looks before it writes.
        await open_followups(ctx, pull, settings, [pair for outcome in outcomes for pair in outcome.followups_to_open])
    healed.accepted_by_reaction = await _accept_by_reaction(ctx, pull, settings)
    healed.changes = _compare(before, _snapshot(pull.records))
    pull.state.needs_reconcile = False
    pull.save(ctx)
    if healed.accepted_by_reaction and not settings.dry_run:
        assert ctx.gh is not None and ctx.repo is not None
        result = await fold(ctx, pull, await github.get_pull(ctx.gh, ctx.repo, number), settings)
        healed.folded = result.folded
        if result.commit_sha:
            await resolve_folded_threads(ctx, pull, result.folded)
    healed.notices_refreshed = await _refresh_notices(ctx, pull, settings, comments)
    if healed.notices_refreshed:
        pull.save(ctx, [])
    if healed.changes or healed.accepted_by_reaction:
        ctx.log.info("reconciled PR #%s: %s", number, "; ".join(healed.changes + [f"{q} accepted by 👍" for q in healed.accepted_by_reaction]))
    return healed


async def _history(ctx: Context, number: int) -> list[Comment]:
    assert ctx.gh is not None and ctx.repo is not None
    comments: list[Comment] = []
    for kind, normalise in _NORMALISE.items():
        for item in await github.list_comments(ctx.gh, ctx.repo, number, kind):
            if kind == "review" and not (item.get("body") or "").strip():
                continue  # a review with only inline comments: those are listed on their own
            comments.append(normalise(item))
    return comments


async def _refresh_notices(ctx: Context, pull: TrackedPull, settings: RepoSettings, comments: list[Comment]) -> list[str]:
    """Each thread notice whose status or awaited line no longer matches its healed record is
    edited, so a record and its notice always agree. Compared with the notices as just listed:
    no extra reads, and an edit only where they differ."""
    if settings.dry_run:
        return []
    shown = {comment.id: comment.body for comment in comments if comment.author_is_bot}
    maintainers = known_maintainers(pull, settings)
    refreshed: list[str] = []
    document_text: str | None = None
    for root, notice_id in list(pull.state.notices.items()):
        question_id = pull.state.threads.get(root)
        if question_id is None or question_id not in pull.records:
            continue
        try:
            plain = thread_notice_body(pull, question_id, notes=(), maintainers=maintainers, document_text=None, dry_run=False)
        except RecordError as error:  # a hand-edited record that does not load: its notice waits for the fix
            ctx.log.warning("PR #%s: notice for %s not refreshed: %s", pull.state.number, question_id, error)
            continue
        if _gist(plain) == _gist(shown.get(notice_id, "")):
            continue
        document_text = document_text or pull.document_text(ctx)
        body = thread_notice_body(pull, question_id, notes=(), maintainers=maintainers, document_text=document_text, dry_run=False)
        await upsert_thread_notice(ctx, pull, int(root), body)
        refreshed.append(question_id)
    return refreshed


def _gist(body: str) -> list[str]:
    """What a notice says about where its question stands: the status line and who is awaited."""
    return [line for line in body.splitlines() if "· status:" in line or line.startswith("Still awaited:")]


async def _accept_by_reaction(ctx: Context, pull: TrackedPull, settings: RepoSettings) -> list[str]:
    """A maintainer's 👍 on a notice with proposals waiting accepts them (no webhook exists for it)."""
    assert ctx.gh is not None and ctx.repo is not None
    accepted: list[str] = []
    known = {login.lower() for login in known_maintainers(pull, settings)}
    for root, notice_id in pull.state.notices.items():
        question_id = pull.state.threads.get(root)
        mapping = pull.records.get(question_id or "")
        if mapping is None or not any(item.get("state") == "proposed" for item in mapping.get("proposals") or ()):
            continue
        for reaction in await github.list_reactions(ctx.gh, ctx.repo, notice_id, review_comment=True):
            login = (reaction.get("user") or {}).get("login", "")
            if reaction.get("content") not in APPROVING_REACTIONS:
                continue
            if login.lower() in known or await is_maintainer(ctx, settings.maintainers, login, UNKNOWN):
                given = str(reaction.get("created_at") or ctx.clock().isoformat())
                # Only what the notice showed when the 👍 was given: a later proposal needs its own.
                shown = [item["id"] for item in mapping.get("proposals") or () if item.get("state") == "proposed" and _made_before(item.get("at"), given)]
                if shown and accept_proposals(mapping, login, given, ids=shown):
                    accepted.append(str(question_id))
                break
    return accepted


def _made_before(made: object, given: str) -> bool:
    """Strictly before: GitHub times have one-second resolution, and a tie is not a yes."""
    made_at, given_at = instant(made), instant(given)
    return made_at is None or given_at is None or made_at < given_at


def _snapshot(records: Mapping[str, Mapping]) -> dict[str, tuple]:
    return {
        question_id: (mapping.get("status"), tuple(mapping.get("awaiting") or ()), len(mapping.get("answers") or ()))
        for question_id, mapping in records.items()
    }


def _compare(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    changes = []
    for question_id, (status, awaiting, answers) in after.items():
        old = before.get(question_id)
        if old is None or old == (status, awaiting, answers):
            continue
        parts = []
        if old[0] != status:
            parts.append(f"status {old[0]} → {status}")
        if old[1] != awaiting:
            parts.append(f"awaiting {list(old[1])} → {list(awaiting)}")
        if old[2] != answers:
            parts.append(f"answers {old[2]} → {answers}")
        changes.append(f"{question_id}: " + ", ".join(parts))
    return changes
