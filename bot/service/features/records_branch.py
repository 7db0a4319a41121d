"""Question records on a branch of the repository (`records: {location: branch}`).

The service keeps working on its local copy (the state directory) and keeps the branch in step:

- after each delivery or scheduled job, every record file whose bytes differ from the version it
  started from is written to `<branch>:questions/pr-<N>/<file>` with the Contents API, naming the
  blob sha it replaces. GitHub refuses the write if the file moved on since (optimistic
  concurrency): the bot then takes the branch's version and the delivery is retried on top of it;
- on a push to the branch by anyone else, and before each import, changed files are read back;
- a file on the branch that does not load is reported once on the PR, never overwritten, and the
  bot goes on with its last good copy until it loads again.

"Differ from" needs no bookkeeping of who wrote what: a file's git blob sha is computed from its
bytes, and the state remembers the sha of the branch version each local copy started from.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from gidgethub import BadRequest

from bot.core.document import parse_document
from bot.core.model import DocumentError
from bot.core.records import RecordError, record_filename
from bot.core.settings import RepoSettings
from bot.github import pulls as github
from bot.service.features.one_off_remarks import post_once
from bot.service.runtime.handler_context import Context
from bot.service.runtime.pull_locks import pull_lock
from bot.store.folder import FolderStore
from bot.store.inbox import Delivery
from bot.store.pull_state import (
    PullState,
    document_copy,
    load_pull_state,
    pull_directory,
    save_pull_state,
    tracked_pulls,
)
from bot.store.repo_config import RepoConfigError
from bot.store.yamlio import load_record_text, validate_loaded

FOLDER = "questions"
OWN_COMMITS_KEPT = 50
REFUSED_PAUSE = timedelta(hours=1)  # after the branch refused a write, before trying again


class RecordsMoved(Exception):
    """A record changed on the branch while the bot was writing it: retry on the branch's version."""


@dataclass(frozen=True)
class Synced:
    written: tuple[str, ...] = ()
    taken: tuple[str, ...] = ()  # files taken from the branch
    held: tuple[str, ...] = ()  # files on the branch that do not load


def on_branch(settings: RepoSettings) -> bool:
    return settings.records.location == "branch"


def note_location(state: PullState, settings: RepoSettings) -> None:
    """Remember where this PR's records go, so a delivery that changed none needs no settings."""
    state.records_branch = settings.records.branch if on_branch(settings) else None


def folder_of(number: int) -> str:
    return f"{FOLDER}/pr-{number}"


def blob_sha(data: bytes) -> str:
    """Git's object id for a file with these bytes: what GitHub reports as the file's sha."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's object id, not a security use


def _store(ctx: Context, number: int) -> FolderStore:
    assert ctx.repo is not None
    return FolderStore(pull_directory(ctx.state_dir, ctx.repo, number) / "questions")


# ---- writing ---------------------------------------------------------------------------------


async def push_changes(ctx: Context, number: int, settings: RepoSettings) -> Synced:
    """Write every locally changed record of PR `number` to the branch (call under its lock).

    One changed file: one Contents API write naming the blob it replaces. Several (an import,
    a bulk answer): one commit for all of them, after checking that none of them moved on the
    branch, fast-forward only. A person's change made there meanwhile is taken (see _conflict)
    and RecordsMoved asks for the delivery to be retried on top of it. A refusal that is not a
    move (a protected branch, a ruleset) is CannotPush: the local copy is kept.
    """
    assert ctx.gh is not None and ctx.repo is not None
    state = load_pull_state(ctx.state_dir, ctx.repo, number)
    store = _store(ctx, number)
    changed = local_changes(state, store) if state.document_path is not None else []
    if not changed:
        return Synced()
    branch = settings.records.branch
    if settings.dry_run:
        ctx.log.info("dry run: would write %s to %s:%s", ", ".join(changed), ctx.repo, branch)
        return Synced()
    try:
        if len(changed) == 1 and changed[0] in state.record_shas:
            await _put(ctx, state, store, branch, changed[0])
        else:
            await _commit(ctx, state, store, branch, changed)
    finally:
        save_pull_state(ctx.state_dir, state)
    ctx.log.info("PR #%s: wrote %s to %s", number, ", ".join(changed), branch)
    return Synced(written=tuple(changed))


async def _put(ctx: Context, state: PullState, store: FolderStore, branch: str, name: str) -> None:
    assert ctx.gh is not None and ctx.repo is not None
    path = f"{folder_of(state.number)}/{name}"
    text = store.file_bytes()[name].decode("utf-8")
    message = f"Record {name.removesuffix('.yaml')} of PR #{state.number} (threat-model-bot)"
    known = state.record_shas.get(name)
    try:
        sha, commit = await github.put_file(ctx.gh, ctx.repo, branch, path, text, message, known_sha=known)
    except github.BranchMissing:
        # The branch was deleted: everything here is new there, and goes back in one commit.
        forget_branch(state)
        await _commit(ctx, state, store, branch, local_changes(state, store))
        return
    except github.FileChanged as refused:
        await _conflict(ctx, state, store, branch, [name], refusal=str(refused))
    state.record_shas[name] = sha
    _note_own_commit(state, commit)


async def _commit(ctx: Context, state: PullState, store: FolderStore, branch: str, names: list[str]) -> None:
    assert ctx.gh is not None and ctx.repo is not None
    head, created = await _head_or_create(ctx, branch)
    if created:  # it was gone (deleted after a merge, say): every record here goes back
        forget_branch(state)
        names = local_changes(state, store)
    folder = folder_of(state.number)
    on_branch_now = await github.list_folder(ctx.gh, ctx.repo, folder, head) or {}
    files = store.file_bytes()
    for name in [name for name in names if on_branch_now.get(name) == blob_sha(files[name])]:
        state.record_shas[name] = on_branch_now[name]  # already there, byte for byte (a crash, a rebuild)
        names.remove(name)
    if not names:
        return
    moved = [name for name in names if on_branch_now.get(name) != state.record_shas.get(name)]
    if moved:
        await _conflict(ctx, state, store, branch, moved, refusal="")
    message = f"Records {', '.join(name.removesuffix('.yaml') for name in names)} of PR #{state.number} (threat-model-bot)"
    try:
        commit = await github.commit_files(
            ctx.gh, ctx.repo, branch, {f"{folder}/{name}": files[name].decode("utf-8") for name in names}, message,
            parent_sha=head,
        )
    except github.NotFastForward as error:
        raise RecordsMoved(f"{branch} moved while writing; retrying") from error
    for name in names:
        state.record_shas[name] = blob_sha(files[name])
    _note_own_commit(state, commit)


async def _conflict(
    ctx: Context, state: PullState, store: FolderStore, branch: str, names: list[str], *, refusal: str
) -> NoReturn:
    """The branch refused a write, or some files there are not the versions ours started from.

    For each file: a person's version → take it (see _take_from_branch); gone → forget it (the
    next write puts ours back). Then RecordsMoved: retry on top of it all. If every file is
    still the version we knew, nothing moved: GitHub's "is at … but expected …" is another write
    to the branch racing ours (retry); anything else is a refusal (a ruleset, a protection):
    CannotPush, and the records stay here.
    """
    assert ctx.gh is not None and ctx.repo is not None
    outcomes = {name: await _take_from_branch(ctx, state, store, branch, name, expected=state.record_shas.get(name))
                for name in names}
    if all(outcome == "unchanged" for outcome in outcomes.values()):
        if "expected" in refusal:
            raise RecordsMoved(f"another write moved {branch} under ours ({refusal}); retrying")
        raise github.CannotPush(f"{ctx.repo}:{branch} refused a write that conflicts with nothing: {refusal}")
    raise RecordsMoved(f"records changed on {branch} meanwhile ({outcomes}); retrying on top of them")


def forget_branch(state: PullState) -> None:
    """The branch (or the PR's folder) is gone: every record here is new there."""
    state.record_shas.clear()
    state.records_held.clear()


def _note_own_commit(state: PullState, commit: str) -> None:
    state.own_record_commits = [*state.own_record_commits, commit][-OWN_COMMITS_KEPT:]


async def _head_or_create(ctx: Context, branch: str) -> tuple[str, bool]:
    """The branch's head, and whether this call had to create the branch."""
    head = await _head(ctx, branch)
    return (head, False) if head is not None else (await _create_branch(ctx, branch), True)


async def _head(ctx: Context, branch: str) -> str | None:
    """The branch's head commit; None when there is no such branch."""
    assert ctx.gh is not None and ctx.repo is not None
    try:
        return await github.branch_head(ctx.gh, ctx.repo, branch)
    except BadRequest as error:
        if error.status_code == 404:
            return None
        raise


async def _create_branch(ctx: Context, branch: str) -> str:
    """The records branch starts from the default branch (it only ever adds `questions/`)."""
    assert ctx.gh is not None and ctx.repo is not None
    try:
        base = await github.branch_head(ctx.gh, ctx.repo, await github.default_branch(ctx.gh, ctx.repo))
        await github.create_branch(ctx.gh, ctx.repo, branch, base)
        head = await github.branch_head(ctx.gh, ctx.repo, branch)  # a racing creator may have won
    except BadRequest as error:
        if error.status_code in (403, 404):
            raise github.CannotPush(f"{ctx.repo}:{branch} cannot be created: {error}") from error
        raise
    ctx.log.info("created the records branch %s in %s", branch, ctx.repo)
    return head


# ---- reading ---------------------------------------------------------------------------------


async def take_changes(ctx: Context, number: int, branch: str) -> Synced:
    """Bring the local copy of PR `number`'s records up to the branch (call under its lock).

    Nothing is ever deleted here because the branch lacks it: a branch or folder that is gone
    (deleted after a merge, say) only means every record is new there, and the next write puts
    them all back."""
    assert ctx.gh is not None and ctx.repo is not None
    state = load_pull_state(ctx.state_dir, ctx.repo, number)
    listing = await github.list_folder(ctx.gh, ctx.repo, folder_of(number), branch)
    store = _store(ctx, number)
    taken: list[str] = []
    held: list[str] = []
    for name in (set(state.record_shas) | set(state.records_held)) - set(listing or {}):
        state.record_shas.pop(name, None)  # gone there: ours is written back at the next change
        state.records_held.pop(name, None)
    for name, sha in (listing or {}).items():
        if name in state.records_held and state.records_held[name] != sha:
            del state.records_held[name]  # the version that did not load is gone
        if not name.endswith(".yaml") or sha in (state.record_shas.get(name), state.records_held.get(name)):
            continue
        outcome = await _take_from_branch(ctx, state, store, branch, name, expected=state.record_shas.get(name))
        (held if outcome == "held" else taken).append(name)
    save_pull_state(ctx.state_dir, state)
    if taken or held:
        ctx.log.info("PR #%s: took %s from %s; held %s", number, taken, branch, held)
    return Synced(taken=tuple(taken), held=tuple(held))


async def _take_from_branch(
    ctx: Context, state: PullState, store: FolderStore, branch: str, name: str, *, expected: str | None
) -> str:
    """Read one record from the branch into the local copy, unless it does not load.

    Returns "unchanged" (still the `expected` blob), "same" (our bytes already), "gone", "held"
    (does not load) or "taken". Taking a version over a local copy that had changes of its own
    re-imports the document over it and marks the PR for a replay of its history, so neither
    side's work is lost."""
    assert ctx.gh is not None and ctx.repo is not None
    path = f"{folder_of(state.number)}/{name}"
    try:
        found = await github.read_file(ctx.gh, ctx.repo, path, branch)
    except github.NotText as error:
        return await _hold(ctx, state, branch, name, error.sha, RecordError(path, None, "not UTF-8 text"))
    if found is None:
        state.record_shas.pop(name, None)
        state.records_held.pop(name, None)
        return "gone"
    if found.sha == expected:
        return "unchanged"
    here = store.file_bytes().get(name)
    if here is not None and blob_sha(here) == found.sha:
        state.record_shas[name] = found.sha  # the same bytes: nothing to take
        state.records_held.pop(name, None)
        return "same"
    try:
        record = validate_loaded(load_record_text(found.text, path, shared=True), path)
        if record_filename(record.id) != name:
            raise RecordError(path, None, f"id {record.id} belongs in {record_filename(record.id)}")
    except RecordError as error:
        return await _hold(ctx, state, branch, name, found.sha, error)
    changed_here = here is not None and blob_sha(here) != state.record_shas.get(name)
    store.replace_file(name, found.text)
    state.record_shas[name] = found.sha
    state.records_held.pop(name, None)
    if changed_here:
        # This copy had changes the branch never got (answers, an import): the document's part
        # comes back from the kept copy of the document now, the answers from the PR's history
        # at the next reconcile.
        _reimport(ctx, state, store)
        state.needs_reconcile = True
    return "taken"


def _reimport(ctx: Context, state: PullState, store: FolderStore) -> None:
    assert ctx.repo is not None
    copy = document_copy(ctx.state_dir, ctx.repo, state.number)
    if state.document_path is None or not copy.exists():
        return
    try:
        store.import_document(parse_document(copy.read_text(encoding="utf-8"), state.document_path), state.document_path)
    except (RecordError, DocumentError) as error:  # a record that does not load here: reported where it is used
        ctx.log.warning("PR #%s: could not re-import the document over the records taken: %s", state.number, error)


async def _hold(ctx: Context, state: PullState, branch: str, name: str, sha: str, error: RecordError) -> str:
    state.records_held[name] = sha
    await _report_unloadable(ctx, state, branch, sha, error)
    return "held"


async def _report_unloadable(ctx: Context, state: PullState, branch: str, sha: str, error: RecordError) -> None:
    assert ctx.gh is not None and ctx.repo is not None
    text = (
        f"A question record on the `{branch}` branch does not load, so the bot will not overwrite it "
        f"and goes on with its last good copy until it is fixed:\n\n> {error}\n"
    )
    await post_once(ctx, state.number, f"record-unloadable:{ctx.repo}#{state.number}:{sha}", text)


# ---- entry points ------------------------------------------------------------------------------


async def after_delivery(delivery: Delivery, ctx: Context) -> None:
    """The worker's hook: a delivery about one PR (its lane is "owner/name#N") may have changed
    that PR's records."""
    repo, hash_mark, number = delivery.lane.rpartition("#")
    if hash_mark and number.isdigit() and repo == ctx.repo:
        await after_work(ctx, int(number))


def local_changes(state: PullState, store: FolderStore) -> list[str]:
    """Record files whose bytes are not the branch version they started from (none are held)."""
    return [
        name for name, data in store.file_bytes().items()
        if name not in state.records_held and blob_sha(data) != state.record_shas.get(name)
    ]


async def after_work(ctx: Context, number: int, *, scheduled: bool = False) -> None:
    """After a delivery or a scheduled job touched PR `number`: write what changed locally.

    Costs nothing when the records live only in the state directory or nothing changed: the
    location is noted at import, and changes are found by hashing the local files."""
    if ctx.gh is None or ctx.repo is None:
        return
    state = load_pull_state(ctx.state_dir, ctx.repo, number)
    if state.document_path is None or state.records_branch is None or not local_changes(state, _store(ctx, number)):
        return
    if scheduled and state.records_refused_until and ctx.clock().isoformat() < state.records_refused_until:
        return  # refused lately: the scheduler tries again after a pause, not every tick
    try:
        settings = await ctx.repo_settings()
    except RepoConfigError:
        return  # reported on the PR by the handler; nothing is written until it is fixed
    if not on_branch(settings):
        return
    async with pull_lock(ctx.repo, number):
        try:
            await push_changes(ctx, number, settings)
        except github.CannotPush:
            await _report_cannot_push(ctx, number, settings.records.branch)
            _note_refusal(ctx, number, ctx.clock() + REFUSED_PAUSE)
        else:
            _note_refusal(ctx, number, None)


def _note_refusal(ctx: Context, number: int, until: datetime | None) -> None:
    assert ctx.repo is not None
    state = load_pull_state(ctx.state_dir, ctx.repo, number)
    stamp = until.isoformat() if until is not None else None
    if state.records_refused_until != stamp:
        state.records_refused_until = stamp
        save_pull_state(ctx.state_dir, state)


async def _report_cannot_push(ctx: Context, number: int, branch: str) -> None:
    assert ctx.gh is not None and ctx.repo is not None
    ctx.log.error("PR #%s: %s:%s refuses the bot's writes; records stay in the state directory", number, ctx.repo, branch)
    await post_once(
        ctx, number, f"records-branch-refused:{ctx.repo}#{number}:{branch}",
        f"GitHub refuses the bot's writes to the `{branch}` branch (is it protected, or missing the "
        "App's permission?), so its question records stay in its own state and are written there "
        "once it can. Nothing else is affected.",
    )


async def on_push(ctx: Context, ref: str, after: str, deleted: bool) -> list[int]:
    """A push to a records branch: take what others changed there, for every PR kept on it.

    Which PRs keep their records on which branch was noted at import, so pushes to any other
    branch cost nothing; the bot's own writes coming back are recognised by their commit."""
    assert ctx.repo is not None
    branch = ref.removeprefix("refs/heads/")
    pulls = [
        state for state in (load_pull_state(ctx.state_dir, repo, number) for repo, number in tracked_pulls(ctx.state_dir)
                            if repo == ctx.repo)
        if state.records_branch == branch and not state.closed
    ]
    if not deleted and any(after in state.own_record_commits for state in pulls):
        return []
    if deleted and pulls and await _head(ctx, branch) is not None:
        return []  # heard late: the bot has rebuilt it since, with what it knows
    refreshed = []
    for listed in pulls:
        async with pull_lock(listed.repo, listed.number):
            if deleted:  # everything is new there now: the next write puts it all back
                state = load_pull_state(ctx.state_dir, listed.repo, listed.number)
                forget_branch(state)
                save_pull_state(ctx.state_dir, state)
            else:
                await take_changes(ctx, listed.number, branch)
            refreshed.append(listed.number)
    return refreshed
