"""`python -m bot sync`: rebuild a PR's question records from its whole review history.

GitHub never retries a failed webhook delivery, so this job is the safety net: it reads every
review comment, review and conversation comment of the PR (100 per page) and replays them
through the same fold the webhook handlers use. Replaying everything gives the records the
webhooks would have produced had they all arrived, whatever was received before, so the job
is safe to run at any time and any number of times.

The helpers that open a PR (client, document, settings) are shared with `digest`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.conversation import Comment, rebuild
from bot.core.document import parse_document
from bot.core.document_matching import document_among
from bot.core.maintainer_rule import GithubAnswers, Person, Question, decide
from bot.core.model import Document
from bot.core.records import RecordError, RecordsById
from bot.core.settings import CONFIG_PATH, RepoSettings
from bot.envfile import load_default_env_file
from bot.github.normalise import (
    comment_from_issue_comment,
    comment_from_review,
    comment_from_review_comment,
    is_pending_review,
)
from bot.store.folder import FolderStore
from bot.store.pull_state import load_pull_state, pull_directory, save_pull_state
from bot.store.repo_config import load_repo_settings

if TYPE_CHECKING:
    from bot.github import batch

DEFAULT_QUESTIONS_DIR = Path("questions")


@dataclass(frozen=True)
class OpenedPullRequest:
    """What both batch jobs need to know about one PR before doing anything."""

    gh: batch.Github
    repository: str
    pull: batch.PullRequestInfo
    settings: RepoSettings
    document_path: str | None  # None: the PR touches no threat-model file
    document_text: str | None


def add_target_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--repo", required=required, metavar="OWNER/REPO", help="the repository holding the PR")
    parser.add_argument("--pr", required=required, type=int, metavar="N", help="the pull request number")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--questions",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of question records (default: ./questions)",
    )
    where.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the service's state folder: use this PR's records there, as the webhook service does",
    )
    parser.add_argument(
        "--document",
        metavar="PATH",
        help="the threat model's path in the repository (default: the PR file matching the configured glob)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="rebuild a PR's question records from its whole review history",
        description="Rebuild a PR's question records from its whole review history "
        "(review comments, reviews, conversation comments). Safe to run at any time.",
    )
    add_target_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    started = time.monotonic()
    if args.repo is not None:
        load_default_env_file()  # GitHub is asked: the credentials may be in .env, as `setup` wrote them
    try:
        with batch.retries_reported("sync"):
            return _run(args)
    except batch.GithubException as error:
        print(f"sync: {batch.describe_error(error)}", file=sys.stderr)
        return 1
    except batch.NETWORK_ERRORS as error:
        api_url = os.environ.get(batch.API_URL_VARIABLE) or batch.DEFAULT_API_URL
        print(f"sync: {batch.describe_network_error(error, api_url, started)}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    questions = questions_directory(args)
    if not questions.is_dir():
        print(f"sync: no such folder: {questions}; run `python -m bot import` first", file=sys.stderr)
        return 1
    store = FolderStore(questions)
    try:
        records = store.load()  # validate every record before touching the network
    except RecordError as error:
        print(f"sync: {error}", file=sys.stderr)
        return 2
    if not records:
        print(f"sync: no question records in {questions}: run `python -m bot import` first", file=sys.stderr)
        return 1
    try:
        opened = open_pull_request(args.repo, args.pr, args.document, environ=os.environ)
    except (batch.CredentialsError, ValueError) as error:
        print(f"sync: {error}", file=sys.stderr)
        return 2
    history = batch.read_history(opened.gh, opened.repository, opened.pull.number)
    pull_state = load_pull_state(args.state_dir, args.repo, args.pr) if args.state_dir is not None else None
    threads = dict(pull_state.threads) if pull_state is not None else {}
    result = rebuild_records(
        records,
        history_comments(history),
        opened=opened,
        is_maintainer=maintainer_check(opened),
        threads=threads,
    )
    for question_id in result.touched:
        store.save(records[question_id])
    if pull_state is not None and threads != pull_state.threads:
        pull_state.threads = threads
        save_pull_state(args.state_dir, pull_state)
    print(
        f"{opened.repository}#{opened.pull.number}: read {len(history.review_comments)} review comments, "
        f"{len(history.reviews)} reviews, {len(history.issue_comments)} conversation comments; "
        f"{len(result.touched)} of {len(records)} records changed in {questions}"
    )
    for change in result.changes:
        print(f"  {change}")
    return 0


@dataclass(frozen=True)
class SyncResult:
    touched: tuple[str, ...]  # question ids whose record changed, in record order
    changes: tuple[str, ...]  # one line per changed record (and per unreadable comment), for the person running the job


def rebuild_records(
    records: RecordsById,
    comments: Sequence[Comment],
    *,
    opened: OpenedPullRequest,
    is_maintainer: Callable[[Comment], bool],
    threads: MutableMapping[str, str],
) -> SyncResult:
    """Bring the records (changed in place) to what the PR's full history says.

    `conversation.rebuild` forgets everything the records took from PR comments and replays
    the history, so a lost `created`, `edited` or `deleted` webhook all heal the same way.
    Only records whose content differs afterwards count as changed (and get rewritten).
    """
    before = {question_id: _plain(mapping) for question_id, mapping in records.items()}
    outcomes = rebuild(
        records,
        comments,
        is_maintainer=is_maintainer,
        document_path=opened.document_path,
        spans=question_spans(parse_opened_document(opened)),
        threads=threads,
    )
    touched = tuple(question_id for question_id, mapping in records.items() if _plain(mapping) != before[question_id])
    return SyncResult(
        touched=touched,
        changes=tuple(describe_change(question_id, before[question_id], _plain(records[question_id])) for question_id in touched)
        + tuple(f"comment {outcome.comment_id} cannot be read ({outcome.unreadable}); skipped" for outcome in outcomes if outcome.unreadable),
    )


def describe_change(question_id: str, before: Mapping, after: Mapping) -> str:
    """`Q2: status open → confirmed, answers 0 → 1`."""
    parts = []
    if before.get("status") != after.get("status"):
        parts.append(f"status {before.get('status')} → {after.get('status')}")
    for key in ("answers", "proposals", "followups", "awaiting"):
        was, now = len(before.get(key) or ()), len(after.get(key) or ())
        if was != now:
            parts.append(f"{key} {was} → {now}")
    return f"{question_id}: " + (", ".join(parts) or "details updated")


def question_spans(document: Document | None) -> dict[str, tuple[int, int]]:
    """Each question's first and last line at the PR head: a review comment on those lines
    is about that question."""
    if document is None:
        return {}
    return {question.id: (question.span.start_line, question.span.end_line) for question in document.questions}


def _plain(mapping: Mapping) -> dict[str, Any]:
    # Round-trip YAML containers are dict/list subclasses: JSON gives a comparable copy.
    return json.loads(json.dumps(mapping, default=str))


def maintainer_check(opened: OpenedPullRequest) -> Callable[[Comment], bool]:
    """core.maintainer_rule for each comment's author, asking GitHub what it needs at most once
    per author and question."""
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    rule = opened.settings.maintainers
    owner = opened.repository.split("/")[0]
    asked: dict[tuple[str, Question], bool | str] = {}

    def ask(question: Question, login: str) -> bool | str:
        if (login, question) not in asked:
            if question is Question.ORG_MEMBERSHIP:
                asked[login, question] = batch.is_org_member(opened.gh, owner, login)
            else:
                asked[login, question] = batch.get_permission(opened.gh, opened.repository, login)
        return asked[login, question]

    def is_maintainer(comment: Comment) -> bool:
        person = Person(login=comment.author, association=comment.association, is_bot=comment.author_is_bot)
        answers = GithubAnswers()
        verdict = decide(rule, person, owner, answers)
        while isinstance(verdict, Question):
            answers = answers.with_answer(verdict, ask(verdict, comment.author))
            verdict = decide(rule, person, owner, answers)
        return verdict

    return is_maintainer


def questions_directory(args: argparse.Namespace) -> Path:
    """--questions DIR, or the PR's folder under the service's --state-dir, or ./questions."""
    if args.state_dir is not None:
        return pull_directory(args.state_dir, args.repo, args.pr) / "questions"
    return args.questions if args.questions is not None else DEFAULT_QUESTIONS_DIR


# --- opening a PR (shared with `digest`) ------------------------------------------------------


def open_pull_request(
    repository: str,
    number: int,
    document_path: str | None = None,
    *,
    environ: Mapping[str, str],
    gh: batch.Github | None = None,
) -> OpenedPullRequest:
    """`gh`: a client already connected for `repository` (saves minting another token)."""
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    batch.split_repository(repository)  # a malformed name fails before any network call
    if gh is None:
        gh = batch.connect(batch.credentials_from_environment(environ), repository)
    pull = batch.get_pull_request(gh, repository, number)
    # The settings come from the base branch: a PR must not change how its own review is run.
    settings = load_repo_settings(batch.read_file_or_none(gh, repository, CONFIG_PATH, pull.base_ref))
    if document_path is None:
        files = batch.list_pull_request_files(gh, repository, number)
        document_path = document_among(files, settings.document)
    document_text = (
        batch.read_file_or_none(gh, repository, document_path, pull.head_sha) if document_path else None
    )
    return OpenedPullRequest(
        gh=gh,
        repository=repository,
        pull=pull,
        settings=settings,
        document_path=document_path,
        document_text=document_text,
    )


def parse_opened_document(opened: OpenedPullRequest) -> Document | None:
    """The threat model at the PR head, parsed; None when the PR has none."""
    if opened.document_path is None or opened.document_text is None:
        return None
    return parse_document(opened.document_text, opened.document_path)


def history_comments(history: batch.PullRequestHistory) -> list[Comment]:
    """All of a PR's comments as `Comment`s, in the order they were written.

    Pending reviews are skipped: only their author can see them, so no webhook has
    announced them yet. Ties on the timestamp fall back to the id, which GitHub hands out
    in creation order.
    """
    comments = [comment_from_review_comment(item) for item in history.review_comments]
    comments += [comment_from_review(item) for item in history.reviews if not is_pending_review(item)]
    comments += [comment_from_issue_comment(item) for item in history.issue_comments]
    return sorted(comments, key=lambda comment: (comment.created_at, comment.id))
