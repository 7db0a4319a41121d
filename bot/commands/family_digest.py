"""`python -m bot digest --family`: one weekly digest for a canonical model and its satellites.

The canonical repository's `.github/threat-model-bot.yml` names the satellites (`family:`).
Each member's records come from the service's state folder with `--state-dir`; without it the
canonical PR's come from `--questions` (as for a single digest) and each satellite's are rebuilt
from GitHub: its document at the PR head, then its whole review history replayed, the same
fold `sync` uses. A satellite without a PR is listed as such. Posting follows the single
digest's rules (once a week, previous minimized), on the PR or the issue `family.post_to` names.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import datetime

from bot.commands.digest_output import print_or_publish, wants_posting
from bot.commands.sync import (
    OpenedPullRequest,
    history_comments,
    maintainer_check,
    open_pull_request,
    parse_opened_document,
    questions_directory,
    rebuild_records,
)
from bot.core.digest_figures import DigestFigures
from bot.core.digest_publication import look_for_digest
from bot.core.digest_review import maintainer_logins
from bot.core.digest_schedule import iso_week
from bot.core.digest_wording import Digest
from bot.core.document_matching import AmbiguousDocument, document_among
from bot.core.family_digest_wording import FamilyMember, FamilyRole, render_family_digest
from bot.core.records import Record, RecordError, new_record_mapping, validate_record
from bot.core.settings import CONFIG_PATH, RepoSettings, SatelliteRef
from bot.store.family import member_from_state
from bot.store.folder import load_records
from bot.store.pull_state import newest_tracked_pull
from bot.store.repo_config import RepoConfigError, load_repo_settings

NO_PR = "no open threat-model PR found"
CANDIDATE_PRS = 10  # newest open PRs looked at when a satellite names none


class FamilyError(RuntimeError):
    """Nothing can be rendered: say why and stop."""


@dataclass(frozen=True)
class Members:
    members: list[FamilyMember]
    records: list[Record]  # everyone's, for who may be mentioned


def run_family(args: argparse.Namespace, now: datetime) -> int:
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    week = iso_week(now)
    try:
        canonical = open_pull_request(args.repo, args.pr, args.document, environ=os.environ)
        family = canonical.settings.family
        if not family.enabled:
            raise FamilyError(f"{args.repo} has no family: add `family: satellites:` to {CONFIG_PATH} on its default branch")
        gathered = gather_members(args, canonical)
    except (FamilyError, RecordError, RepoConfigError) as error:
        print(f"digest: {error}", file=sys.stderr)
        return 1
    except (batch.CredentialsError, ValueError) as error:
        print(f"digest: {error}", file=sys.stderr)
        return 2
    target = family.post_to or canonical.pull.number
    posting = wants_posting(args, canonical.settings)
    look = look_for_digest(batch.list_issue_comments(canonical.gh, canonical.repository, target), week, family=True)
    return print_or_publish(
        canonical.gh,
        canonical.repository,
        target,
        look,
        lambda look: render(gathered, canonical.settings, now, look.previous_member_figures),
        posting=posting,
        kind="family digest",
    )


def render(
    gathered: Members, settings: RepoSettings, now: datetime, previous: dict[str, DigestFigures] | None
) -> Digest:
    # A PMC's repositories share one set of maintainers: the canonical repository's rule decides.
    return render_family_digest(
        gathered.members, now, maintainers=maintainer_logins(gathered.records, settings.maintainers), previous=previous,
    )


def gather_members(args: argparse.Namespace, canonical: OpenedPullRequest) -> Members:
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    canonical_records = load_records(questions_directory(args))
    members = [
        FamilyMember(
            repo=canonical.repository, role=FamilyRole.CANONICAL, records=canonical_records,
            document=parse_opened_document(canonical), pr_url=canonical.pull.html_url or None,
        )
    ]
    records = list(canonical_records)
    for satellite in canonical.settings.family.satellites_besides(canonical.repository):
        if args.state_dir is not None:
            state = newest_tracked_pull(args.state_dir, satellite.repo, satellite.pr)
            member = member_from_state(args.state_dir, satellite.repo, state, FamilyRole.SATELLITE)
        else:
            try:
                member = member_from_github(satellite, canonical)
            except (batch.GithubException, batch.CredentialsError, RecordError, RepoConfigError, AmbiguousDocument) as error:
                # One unreadable satellite (the App not installed there, say) is a row, not a failure.
                member = _missing(satellite, f"cannot be read: {_describe(error)}")
        members.append(member)
        records.extend(member.records)
    return Members(members, records)


def member_from_github(satellite: SatelliteRef, canonical: OpenedPullRequest) -> FamilyMember:
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    opened = open_satellite(satellite)
    if opened is None:
        return _missing(satellite, NO_PR)
    document = parse_opened_document(opened)
    if document is None:
        return _missing(satellite, f"PR #{opened.pull.number} has no threat-model document")
    mappings = {question.id: new_record_mapping(question, opened.document_path or "") for question in document.questions}
    rebuild_records(
        mappings,
        history_comments(batch.read_history(opened.gh, opened.repository, opened.pull.number)),
        opened=opened,
        # The satellite's own rule for who binds, as the service would apply it there.
        is_maintainer=maintainer_check(opened),
        threads={},
    )
    where = f"{opened.repository}#{opened.pull.number}"
    records = [validate_record(mapping, f"{where} {question_id}") for question_id, mapping in mappings.items()]
    return FamilyMember(
        repo=satellite.repo, role=FamilyRole.SATELLITE, records=records, document=document,
        pr_url=opened.pull.html_url or None,
    )


def open_satellite(satellite: SatelliteRef) -> OpenedPullRequest | None:
    """The satellite's named PR, or the newest of its open PRs that touches its threat model."""
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    gh = batch.connect(batch.credentials_from_environment(os.environ), satellite.repo)
    if satellite.pr is not None:
        return open_pull_request(satellite.repo, satellite.pr, environ=os.environ, gh=gh)
    settings = load_repo_settings(batch.read_file_or_none(gh, satellite.repo, CONFIG_PATH, ref=None))
    for number in batch.newest_open_pull_numbers(gh, satellite.repo, CANDIDATE_PRS):
        path = document_among(batch.list_pull_request_files(gh, satellite.repo, number), settings.document)
        if path is not None:
            return open_pull_request(satellite.repo, number, path, environ=os.environ, gh=gh)
    return None


def _describe(error: Exception) -> str:
    from bot.github import batch  # PyGithub loads only when a command talks to GitHub
    return batch.describe_error(error) if isinstance(error, batch.GithubException) else str(error)


def _missing(satellite: SatelliteRef, why: str) -> FamilyMember:
    return FamilyMember(repo=satellite.repo, role=FamilyRole.SATELLITE, records=(), document=None, missing=why)
