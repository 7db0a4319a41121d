"""Two `serve` instances on one PostgreSQL database, each with its own (throwaway) disk."""
from __future__ import annotations

from pathlib import Path

import pytest
from e2e_world import Review, answers_by, notice_in, thread_on

from bot.sandbox import REPO, start_service
from bot.service.runtime.app import WORKER
from bot.store.folder import FolderStore
from bot.store.pull_state import load_pull_state, pull_directory


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_two_instances_share_the_work_and_the_state_of_one_pr(review: Review, tmp_path: Path) -> None:
    hub = review.hub
    first = review.box
    roots = {question_id: await thread_on(review, question_id) for question_id in ("Q3", "Q5")}

    # A second instance starts on an empty disk and GitHub now delivers to it. The first
    # instance's worker pauses, so the second one does this work and its disk is what to look
    # at (with both claiming, which one handles a delivery is a race; bench/chaos.py covers that).
    second_disk = tmp_path / "second-disk"
    await first.app[WORKER].stop()
    async with start_service(hub, second_disk, first.private_key, database_url=first.config.database_url) as second:
        for root in roots.values():
            hub.reply(REPO, review.number, root, "/confirm", user="daan")
        await second.settle()
        on_second = FolderStore(pull_directory(second_disk, REPO, review.number) / "questions").load()
        assert {on_second[q]["status"] for q in roots} == {"confirmed"}
    first.app[WORKER].start()

    # Back to the first instance: it takes the PR's state (records, notice ids) from the database
    # before it works on the PR, so its next reply edits the notices the second one posted.
    hub.set_webhook(first.webhook_url, first.config.webhook_secret)
    hub.reply(REPO, review.number, roots["Q3"], "/confirm again, with a note", user="vish")
    await first.settle()
    records = review.records()
    assert records["Q3"]["status"] == records["Q5"]["status"] == "confirmed"
    assert len(answers_by(records["Q3"], "daan")) == 1 and len(answers_by(records["Q5"], "daan")) == 1
    for root in roots.values():
        assert "status: **confirmed**" in notice_in(review, root).body  # exactly one notice per thread
    assert load_pull_state(second_disk, REPO, review.number).notices == load_pull_state(review.state_dir, REPO, review.number).notices
    assert await first.failed_deliveries() == 0
