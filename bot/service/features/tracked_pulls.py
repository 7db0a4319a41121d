"""Which PRs the bot follows, and keeping their question records in step with the document."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from bot.core.document import parse_document
from bot.core.document_matching import AmbiguousDocument, document_among
from bot.core.limits import document_problem
from bot.core.markdown import marker_text
from bot.core.model import Document
from bot.core.records import Record, validate_record
from bot.core.settings import RepoSettings
from bot.github import pulls as github
from bot.service.features import records_branch
from bot.service.features.one_off_remarks import post_once
from bot.service.runtime.handler_context import Context
from bot.store.folder import FolderStore
from bot.store.pull_state import PullState, document_copy, load_pull_state, pull_directory, save_pull_state


@dataclass
class TrackedPull:
    """One tracked PR as the service holds it during a delivery."""

    state: PullState
    store: FolderStore
    records: dict[str, CommentedMap]  # the store's round-trip mappings

    @property
    def tracked(self) -> bool:
        return self.state.document_path is not None

    def record(self, question_id: str) -> Record:
        """The typed, validated snapshot of one record (as it stands in memory)."""
        return validate_record(self.records[question_id], str(self.store.path_for(question_id)))

    def typed_records(self) -> list[Record]:
        return [self.record(question_id) for question_id in self.records]

    def document_text(self, ctx: Context) -> str | None:
        """The document at the last imported head, kept so a reply costs no extra read."""
        return self.document_text_in(ctx.state_dir)

    def document_text_in(self, state_dir: Path) -> str | None:
        path = document_copy(state_dir, self.state.repo, self.state.number)
        return path.read_text(encoding="utf-8") if path.exists() else None

    def keep_document(self, ctx: Context, text: str) -> None:
        assert ctx.repo is not None
        path = document_copy(ctx.state_dir, ctx.repo, self.state.number)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def save(self, ctx: Context, question_ids: list[str] | None = None) -> None:
        for question_id in question_ids if question_ids is not None else list(self.records):
            self.store.save(self.records[question_id])
        save_pull_state(ctx.state_dir, self.state)


def load_pull(ctx: Context, number: int) -> TrackedPull:
    assert ctx.repo is not None
    return load_pull_from(ctx.state_dir, ctx.repo, number)


def load_pull_from(state_dir: Path, repo: str, number: int) -> TrackedPull:
    """Any repository's PR as the state directory holds it (the family digest reads satellites')."""
    state = load_pull_state(state_dir, repo, number)
    store = FolderStore(pull_directory(state_dir, repo, number) / "questions")
    return TrackedPull(state=state, store=store, records=store.load())


def wants_pull(pr: dict[str, Any], settings: RepoSettings) -> bool:
    track = settings.track
    if track.base_branches and pr["base"]["ref"] not in track.base_branches:
        return False
    if track.prs == "labelled":
        names = {label["name"] for label in pr.get("labels") or ()}
        return bool(names & set(track.labels))
    return True


async def track(ctx: Context, pr: dict[str, Any], settings: RepoSettings) -> TrackedPull | None:
    """Import the PR's document at its head: records created or refreshed, line spans noted.

    Returns None when the PR is not one to follow (rules, or no threat-model document in it).
    """
    assert ctx.gh is not None and ctx.repo is not None
    number = int(pr["number"])
    pull = load_pull(ctx, number)
    if not wants_pull(pr, settings):
        _not_tracked(ctx, pull, pr["head"]["sha"])
        return None
    head_sha = pr["head"]["sha"]
    if pull.state.closed and pr.get("state") == "open":
        pull.state.closed = False  # reopened
        save_pull_state(ctx.state_dir, pull.state)
    if pull.tracked and pull.state.head_sha == head_sha:
        return pull  # already imported at this head: a duplicate or replayed event
    path = pull.state.document_path or await _find_document(ctx, number, settings)
    if path is None:
        _not_tracked(ctx, pull, head_sha)
        return None
    document_file = await github.read_file(ctx.gh, _head_repo(pr, ctx.repo), path, head_sha)
    if document_file is None:
        ctx.log.warning("PR #%s: %s is not in the head commit %s", number, path, head_sha[:7])
        return None
    if await _over_limit(ctx, pull, path, head_sha, document_problem(document_file.text)):
        _not_tracked(ctx, pull, head_sha)
        return None
    document = _read_document(ctx, pull, document_file.text, path, head_sha)
    if document is None:
        _not_tracked(ctx, pull, head_sha)
        return None
    if await _over_limit(ctx, pull, path, head_sha, document_problem(document_file.text, len(document.questions))):
        _not_tracked(ctx, pull, head_sha)
        return None
    if not _has_questions(document, pull):
        ctx.log.warning("PR #%s: %s has no §14 questions to track", number, path)
        _not_tracked(ctx, pull, head_sha)
        return None
    if records_branch.on_branch(settings):  # the branch may hold edits (or everything, after a move)
        await records_branch.take_changes(ctx, number, settings.records.branch)
        pull = load_pull(ctx, number)  # what it took, and the branch shas it noted
    result = pull.store.import_document(document, path)
    pull.records = pull.store.load()
    pull.state.document_path = path
    pull.state.head_sha = head_sha
    pull.state.not_tracked_at = None
    pull.state.head_ref = pr["head"]["ref"]
    pull.state.url = pr.get("html_url")
    pull.state.installation_id = ctx.installation_id
    records_branch.note_location(pull.state, settings)
    pull.state.spans = {question.id: [question.span.start_line, question.span.end_line] for question in document.questions}
    pull.keep_document(ctx, document_file.text)
    save_pull_state(ctx.state_dir, pull.state)
    ctx.log.info(
        "PR #%s: imported %s at %s (%d created, %d updated, %d unchanged)",
        number, path, head_sha[:7], len(result.created), len(result.updated), len(result.unchanged),
    )
    return pull


async def _over_limit(ctx: Context, pull: TrackedPull, path: str, head_sha: str, problem: str | None) -> bool:
    """Over a limit: one short remark on the PR, and no import (a push under the limit re-checks)."""
    if problem is None:
        return False
    assert ctx.repo is not None
    ctx.log.warning("PR #%s: %s at %s not tracked: %s", pull.state.number, path, head_sha[:7], problem)
    text = f"The threat-model bot is not following `{marker_text(path, 120)}` at {head_sha[:7]}: {problem}."
    await post_once(ctx, pull.state.number, f"document-limit:{ctx.repo}#{pull.state.number}:{head_sha}", text)
    return True


def _read_document(ctx: Context, pull: TrackedPull, text: str, path: str, head_sha: str) -> Document | None:
    """The parsed document, or None when the parser fails on it: noted once, retried at the next push."""
    try:
        return parse_document(text, path)
    except Exception as error:  # noqa: BLE001 - anyone can open a PR: its document must not fail deliveries for good
        if pull.state.unreadable_document != head_sha:
            pull.state.unreadable_document = head_sha
            ctx.log.warning("PR #%s: %s at %s cannot be read (%s: %s); skipped until the next push",
                            pull.state.number, path, head_sha[:7], type(error).__name__, str(error)[:200])
            save_pull_state(ctx.state_dir, pull.state)
        return None


def _has_questions(document: Document, pull: TrackedPull) -> bool:
    """Questions in §14, or an empty §14 for a PR already holding records: `retire: remove`
    empties it once every question is folded, and the PR stays tracked at its new head."""
    return bool(document.questions) or (document.has_open_questions_section and bool(pull.records))


def _not_tracked(ctx: Context, pull: TrackedPull, head_sha: str) -> None:
    """Remember it, so comments on this PR cost no API calls until its next push."""
    if not pull.tracked and pull.state.not_tracked_at != head_sha:
        pull.state.not_tracked_at = head_sha
        save_pull_state(ctx.state_dir, pull.state)


async def _find_document(ctx: Context, number: int, settings: RepoSettings) -> str | None:
    assert ctx.gh is not None and ctx.repo is not None
    files = await github.list_pull_files(ctx.gh, ctx.repo, number)
    try:
        return document_among(files, settings.document)
    except AmbiguousDocument as error:
        ctx.log.warning("PR #%s: %s", number, error)
        key = f"ambiguous-document:{ctx.repo}#{number}:{hashlib.sha256(str(error).encode()).hexdigest()[:16]}"
        await post_once(ctx, number, key, f"The threat-model bot is not following this PR: {error}.")
        return None


def _head_repo(pr: dict[str, Any], base_repo: str) -> str:
    head_repo = (pr.get("head") or {}).get("repo") or {}
    return head_repo.get("full_name") or base_repo
