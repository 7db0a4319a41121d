"""A family digest's member as the service's state directory holds it: the PR's records and the
document at its last imported head. Shared by the service and `digest --family --state-dir`."""
from __future__ import annotations

from pathlib import Path

from bot.core.document import parse_document
from bot.core.family_digest_wording import FamilyMember, FamilyRole
from bot.store.folder import FolderStore
from bot.store.pull_state import PullState, document_copy, pull_directory

NOT_TRACKED = "no threat-model PR tracked by the bot"


def member_from_state(state_dir: Path, repo: str, state: PullState | None, role: FamilyRole) -> FamilyMember:
    """`repo`'s member from its tracked PR `state`; None: listed as not tracked."""
    if state is None:
        return FamilyMember(repo=repo, role=role, records=(), document=None, missing=NOT_TRACKED)
    records = FolderStore(pull_directory(state_dir, state.repo, state.number) / "questions").records()
    copy = document_copy(state_dir, state.repo, state.number)
    document = parse_document(copy.read_text(encoding="utf-8"), state.document_path or "") if copy.exists() else None
    return FamilyMember(repo=repo, role=role, records=records, document=document, pr_url=state.url)
