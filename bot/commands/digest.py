"""`python -m bot digest`: render this week's review digest for a PR, and post it once.

Meant for an external scheduler (Heroku Scheduler, cron, a GitHub Actions cron). Running it
twice in one week, or from two schedulers at once, leaves one digest on the PR: the comment
carries its ISO week in a hidden marker, the poster looks for it before posting and removes
any duplicate a concurrent run slipped in. Last week's digest is then minimized as outdated.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.commands.digest_output import print_or_publish, wants_posting
from bot.commands.family_digest import run_family
from bot.commands.question_folder import read_question_records
from bot.commands.sync import (
    DEFAULT_QUESTIONS_DIR,
    OpenedPullRequest,
    add_target_arguments,
    open_pull_request,
    parse_opened_document,
    questions_directory,
)
from bot.core.digest_figures import DigestFigures
from bot.core.digest_publication import look_for_digest
from bot.core.digest_review import maintainer_logins
from bot.core.digest_schedule import iso_week
from bot.core.digest_wording import Digest, render_digest
from bot.core.document import parse_document
from bot.core.records import Record, RecordError
from bot.core.settings import CONFIG_PATH, RepoSettings
from bot.envfile import load_default_env_file
from bot.store.folder import load_records


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "digest",
        help="render this week's review digest for a PR (and post it once with --post)",
        description="Render this week's review digest for a PR. Without --post it only prints the "
        "Markdown; with --post it posts it unless this week's digest is already on the PR, then "
        "minimizes the previous one. Without --repo and --pr it renders from the local records "
        "(--questions, default ./questions) with no GitHub and no credentials; --document then names "
        "a local copy of the threat model, for the provenance tally.",
    )
    add_target_arguments(parser, required=False)
    parser.add_argument("--post", action="store_true", help="post the digest as a PR comment")
    parser.add_argument("--dry-run", action="store_true", help="print the digest and post nothing, even with --post")
    parser.add_argument(
        "--family",
        action="store_true",
        help="one digest for this repository and the satellites its configuration names (family:); "
        "--pr is the canonical threat-model PR",
    )
    parser.add_argument(
        "--now",
        type=_parse_now,
        default=None,
        metavar="ISO-TIME",
        help="the moment the digest describes (default: now, UTC); it decides the ISO week",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    started = time.monotonic()
    if args.repo is not None:
        load_default_env_file()  # GitHub is asked: the credentials may be in .env, as `setup` wrote them
    try:
        with batch.retries_reported("digest"):
            return _run(args)
    except batch.GithubException as error:
        print(f"digest: {batch.describe_error(error)}", file=sys.stderr)
        return 1
    except batch.NETWORK_ERRORS as error:
        api_url = os.environ.get(batch.API_URL_VARIABLE) or batch.DEFAULT_API_URL
        print(f"digest: {batch.describe_network_error(error, api_url, started)}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    now = args.now or datetime.now(UTC)
    if args.repo is None and args.pr is None:
        return run_local(args, now)
    if args.repo is None or args.pr is None:
        print("digest: give both --repo and --pr (a PR on GitHub), or neither (the local records)", file=sys.stderr)
        return 2
    if args.family:
        return run_family(args, now)
    week = iso_week(now)
    try:
        records = load_records(questions_directory(args))
    except RecordError as error:
        print(f"digest: {error}", file=sys.stderr)
        return 2
    try:
        opened = open_pull_request(args.repo, args.pr, args.document, environ=os.environ)
    except (batch.CredentialsError, ValueError) as error:
        print(f"digest: {error}", file=sys.stderr)
        return 2
    if args.post and not args.dry_run and not opened.settings.digest.enabled:
        print(f"digests are switched off for {opened.repository} (digest.enabled: false in {CONFIG_PATH}); nothing posted")
        return 0
    posting = wants_posting(args, opened.settings)
    look = look_for_digest(batch.list_issue_comments(opened.gh, opened.repository, opened.pull.number), week)
    return print_or_publish(
        opened.gh,
        opened.repository,
        opened.pull.number,
        look,
        lambda look: build_digest(opened, records, now, look.previous_figures),
        posting=posting,
    )


def run_local(args: argparse.Namespace, now: datetime) -> int:
    """The digest from local records alone, as `status` reads them: nothing is asked of GitHub."""
    if args.post or args.family or args.state_dir is not None:
        print("digest: --post, --family and --state-dir need --repo and --pr", file=sys.stderr)
        return 2
    questions = args.questions if args.questions is not None else DEFAULT_QUESTIONS_DIR
    records = read_question_records(questions, required=True)
    document = None
    if args.document is not None:
        try:
            document = parse_document(Path(args.document).read_text(encoding="utf-8"), args.document)
        except OSError as error:
            print(f"digest: cannot read {args.document}: {error.strerror}", file=sys.stderr)
            return 1
    digest = render_digest(records, document, None, now, maintainers=maintainer_logins(records, RepoSettings().maintainers))
    sys.stdout.write(digest.markdown)
    return 0


def build_digest(
    opened: OpenedPullRequest,
    records: Sequence[Record],
    now: datetime,
    previous: DigestFigures | None,
) -> Digest:
    document = parse_opened_document(opened)
    pr_url = opened.pull.html_url or None
    return render_digest(
        records,
        document,
        previous,
        now,
        maintainers=maintainer_logins(records, opened.settings.maintainers),
        thread_url=lambda record: thread_url(pr_url, record),
        pr_url=pr_url,
    )


def thread_url(pr_url: str | None, record: Record) -> str | None:
    if not pr_url or record.thread is None or record.thread.comment_id is None:
        return None
    return f"{pr_url}#discussion_r{record.thread.comment_id}"


def _parse_now(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
