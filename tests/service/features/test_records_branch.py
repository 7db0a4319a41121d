"""The records branch's local bookkeeping: which files changed, found from their bytes alone."""
from __future__ import annotations

from pathlib import Path

from bot.service.features.records_branch import blob_sha, local_changes
from bot.store.folder import FolderStore
from bot.store.pull_state import PullState


def test_blob_sha_is_gits_object_id() -> None:
    assert blob_sha(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # `git hash-object`
    assert blob_sha(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_only_files_whose_bytes_left_their_branch_version_count_as_changed(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    for name, text in {"Q1.yaml": "id: Q1\n", "Q2.yaml": "id: Q2\n", "Q3.yaml": "id: Q3\n", "Q4.yaml": "id: Q4\n"}.items():
        store.replace_file(name, text)
    state = PullState(repo="o/r", number=1, record_shas={
        "Q1.yaml": blob_sha(b"id: Q1\n"),  # as on the branch
        "Q2.yaml": blob_sha(b"id: Q2\nstatus: open\n"),  # changed here since
        "Q4.yaml": blob_sha(b"whatever\n"),
    }, records_held={"Q4.yaml": "abc"})  # broken on the branch: never written back

    assert local_changes(state, store) == ["Q2.yaml", "Q3.yaml"]  # Q3 is new here
