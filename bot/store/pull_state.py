"""Where the service keeps what it knows about one tracked pull request.

    <state_dir>/repos/<owner>/<repo>/pulls/<number>/state.json   what the bot remembers
    <state_dir>/repos/<owner>/<repo>/pulls/<number>/questions/    the question records
    <state_dir>/repos/<owner>/<repo>/pulls/<number>/document.md   the document at head_sha

state.json is machine-owned (plain JSON, written atomically); the records are YAML that
people may edit, handled by FolderStore.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class PullState:
    repo: str
    number: int
    document_path: str | None = None
    head_sha: str | None = None
    head_ref: str | None = None
    url: str | None = None  # the PR's html_url, for links in issues and digests
    installation_id: int | None = None  # so scheduled work (digest, reconcile) can act as the App
    # question id -> [first line, last line] in the document at head_sha
    spans: dict[str, list[int]] = field(default_factory=dict)
    # review-thread root comment id (as str, JSON keys) -> question id
    threads: dict[str, str] = field(default_factory=dict)
    # review-thread root comment id -> the bot's notice comment id in that thread
    notices: dict[str, int] = field(default_factory=dict)
    # comment ids seen deleted: a late "created" for them must not resurrect an answer
    deleted_comments: list[int] = field(default_factory=list)
    # PR-level notice (issue comment) the bot keeps for replies outside review threads
    summary_notice: int | None = None
    last_digest_week: str | None = None
    not_tracked_at: str | None = None  # head sha found without a threat model (until the next push)
    closed: bool = False  # closed or merged: the scheduler leaves it alone
    # logins the bot had to ask GitHub about (no author_association at hand) -> maintainer?
    people: dict[str, bool] = field(default_factory=dict)
    # records kept on a branch of the repository (records.location: branch), noted at each import:
    records_branch: str | None = None  # None: the records live only here
    # record file name -> blob sha of the version on the branch that the local copy started from
    record_shas: dict[str, str] = field(default_factory=dict)
    # record file name -> blob sha of a version on the branch that does not load: never overwritten
    records_held: dict[str, str] = field(default_factory=dict)
    own_record_commits: list[str] = field(default_factory=list)  # the bot's recent commits there
    needs_reconcile: bool = False  # records were replaced from elsewhere: replay the PR's history soon
    records_refused_until: str | None = None  # ISO time: the branch refused a write; pause until then
    # comment id -> updated_at of the version the reader failed on: skipped until edited
    unreadable_comments: dict[str, str] = field(default_factory=dict)
    unreadable_document: str | None = None  # head sha whose document could not be read
    # comment id -> "<updated_at> <body hash>" of the version last applied (same-second edits)
    comment_versions: dict[str, str] = field(default_factory=dict)


_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def pull_directory(state_dir: Path, repo: str, number: int) -> Path:
    """The PR's folder; refuses names GitHub would not give, so no path can leave state_dir."""
    owner, _, name = repo.partition("/")
    if not _OWNER.fullmatch(owner) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"not a repository name: {repo!r}")
    return Path(state_dir) / "repos" / owner / name / "pulls" / str(int(number))


def load_pull_state(state_dir: Path, repo: str, number: int) -> PullState:
    path = pull_directory(state_dir, repo, number) / "state.json"
    if not path.exists():
        return PullState(repo=repo, number=number)
    data = json.loads(path.read_text(encoding="utf-8"))
    known = PullState.__dataclass_fields__
    return PullState(**{key: value for key, value in data.items() if key in known})


def save_pull_state(state_dir: Path, state: PullState) -> Path:
    directory = pull_directory(state_dir, state.repo, state.number)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "state.json"
    text = json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"
    # Atomic replace: a crash mid-write must never leave a half-written state file.
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".state.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temp, path)
    return path


def tracked_pulls(state_dir: Path) -> list[tuple[str, int]]:
    """Every (repo, number) the service has state for, for the scheduler and reconcile."""
    root = Path(state_dir) / "repos"
    found = []
    for state_file in sorted(root.glob("*/*/pulls/*/state.json")):
        number_dir = state_file.parent
        repo = f"{number_dir.parent.parent.parent.name}/{number_dir.parent.parent.name}"
        found.append((repo, int(number_dir.name)))
    return found


DOCUMENT_COPY = "document.md"


def document_copy(state_dir: Path, repo: str, number: int) -> Path:
    """Where the document at the last imported head is kept, so a reply costs no extra read."""
    return pull_directory(state_dir, repo, number) / DOCUMENT_COPY


def newest_tracked_pull(state_dir: Path, repo: str, number: int | None = None) -> PullState | None:
    """`repo`'s PR `number` if the service tracks it; without a number, its newest open tracked PR."""
    candidates = sorted(
        (tracked_number, tracked_repo)
        for tracked_repo, tracked_number in tracked_pulls(state_dir)
        if tracked_repo.lower() == repo.lower() and number in (None, tracked_number)
    )
    for tracked_number, tracked_repo in reversed(candidates):
        state = load_pull_state(state_dir, tracked_repo, tracked_number)
        if state.document_path is not None and (number is not None or not state.closed):
            return state
    return None
