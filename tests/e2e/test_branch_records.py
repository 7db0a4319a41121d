"""Records on a branch of the repository (`records: {location: branch}`): written with
optimistic concurrency on each file's sha, people's edits there taken and never overwritten."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_world import AUTHOR, BRANCH, DOC, FIXTURE, MAINTAINERS, Review, api_calls_since, thread_on

from bot.core.settings import CONFIG_PATH
from bot.sandbox import REPO, sandbox, start_service
from bot.store.yamlio import load_record_text

RECORDS = "threat-model-records"
CONFIG = f"records:\n  location: branch\n  branch: {RECORDS}\n"


@pytest.fixture
async def review(tmp_path: Path) -> AsyncIterator[Review]:
    files = {"README.md": "# cloudstack\n", CONFIG_PATH: CONFIG}
    async with sandbox(tmp_path / "state", maintainers=MAINTAINERS, files=files) as box:
        box.hub.push(REPO, BRANCH, {DOC: FIXTURE.read_text(encoding="utf-8")}, user=AUTHOR, message="Add a draft threat model")
        number = box.hub.open_pr(REPO, BRANCH, user=AUTHOR, title="Add a draft threat model")
        await box.settle()
        yield Review(box, number, tmp_path / "state")


def on_branch(review: Review, name: str) -> str | None:
    return review.hub.file(REPO, f"questions/pr-{review.number}/{name}", ref=RECORDS)


def local(review: Review, name: str) -> str:
    return (review.state_dir / "repos" / REPO / "pulls" / str(review.number) / "questions" / name).read_text(encoding="utf-8")


def writes_to_records(review: Review, start: int = 0) -> list:
    return [
        r for r in review.hub.requests[start:]
        if (r.method == "PUT" and "/contents/questions/" in r.path) or (r.method == "PATCH" and r.path.endswith(f"/git/refs/heads/{RECORDS}"))
    ]


def edited(text: str, note: str) -> str:
    """A person's edit: a YAML comment at the top, which must survive the bot's later writes."""
    return f"# {note}\n{text}"


async def test_the_import_puts_every_record_on_the_branch_in_one_commit(review: Review) -> None:
    names = sorted(path.name for path in (review.state_dir / "repos" / REPO / "pulls" / "1" / "questions").glob("*.yaml"))

    assert len(names) == len(review.records()) > 1
    assert all(on_branch(review, name) == local(review, name) for name in names)
    assert len(writes_to_records(review)) == 1  # one commit (one ref update), however many records
    assert review.hub.file(REPO, "README.md", ref=RECORDS) == "# cloudstack\n"  # branched from main


async def test_a_reply_rewrites_only_its_record_with_one_write(review: Review) -> None:
    root = await thread_on(review, "Q3")
    start = len(review.hub.requests)

    review.hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()

    assert load_record_text(on_branch(review, "Q03.yaml"), "Q03.yaml")["status"] == "confirmed"
    (write,) = writes_to_records(review, start)
    assert write.method == "PUT" and write.path.endswith("/questions/pr-1/Q03.yaml")
    # The reply's usual budget (at most 3 calls) plus that one write; its push comes back as a
    # webhook the bot recognises as its own, at no cost.
    calls = api_calls_since(review.hub, start)
    assert len(calls) <= 4, [(r.method, r.path) for r in calls]


async def test_a_persons_edit_on_the_branch_is_taken_and_kept_by_later_writes(review: Review) -> None:
    hub = review.hub
    text = edited(on_branch(review, "Q05.yaml"), "PMC: Daan knows the manifest limits")
    hub.push(REPO, RECORDS, {"questions/pr-1/Q05.yaml": text}, user="vish", message="Note who knows")
    await review.box.settle()
    assert local(review, "Q05.yaml") == text

    root = await thread_on(review, "Q5")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()

    after = on_branch(review, "Q05.yaml")
    assert after.startswith("# PMC: Daan knows the manifest limits\n")
    assert load_record_text(after, "Q05.yaml")["status"] == "confirmed"


async def test_an_edit_whose_webhook_was_lost_is_not_overwritten(review: Review) -> None:
    hub = review.hub
    hub.faults.drop_webhooks(times=1, event="push")
    text = edited(on_branch(review, "Q05.yaml"), "edited while nobody listened")
    hub.push(REPO, RECORDS, {"questions/pr-1/Q05.yaml": text}, user="vish", message="Edit")
    await review.box.settle()
    assert local(review, "Q05.yaml") != text  # the bot has not heard of it

    root = await thread_on(review, "Q5")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()

    conflicts = [r for r in hub.requests if r.method == "PUT" and r.path.endswith("/Q05.yaml") and r.status == 409]
    assert len(conflicts) == 1  # the stale write was refused, the edit taken, the delivery retried
    after = on_branch(review, "Q05.yaml")
    assert after.startswith("# edited while nobody listened\n")
    assert load_record_text(after, "Q05.yaml")["status"] == "confirmed"


async def test_a_record_that_does_not_load_on_the_branch_is_reported_once_and_never_overwritten(review: Review) -> None:
    hub = review.hub
    broken = "id: Q5\nstatus: [unclosed\n"
    hub.push(REPO, RECORDS, {"questions/pr-1/Q05.yaml": broken}, user="vish", message="Oops")
    await review.box.settle()
    root = await thread_on(review, "Q5")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()

    assert on_branch(review, "Q05.yaml") == broken
    reports = [c for c in hub.state.issue_comments.values() if "does not load" in c.body]
    assert len(reports) == 1 and "questions/pr-1/Q05.yaml:3:" in reports[0].body  # file and line
    assert review.records()["Q5"]["status"] == "confirmed"  # the bot went on with its good copy

    fixed = edited(local(review, "Q05.yaml"), "fixed")
    hub.push(REPO, RECORDS, {"questions/pr-1/Q05.yaml": fixed}, user="vish", message="Fix")
    await review.box.settle()
    assert local(review, "Q05.yaml") == fixed


async def test_a_fresh_state_directory_takes_the_records_back_from_the_branch(review: Review, tmp_path: Path) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()

    elsewhere = tmp_path / "moved"
    async with start_service(hub, elsewhere, review.box.private_key) as moved:  # webhooks now go here
        hub.push(REPO, BRANCH, {"NOTES.md": "moved hosts\n"}, user=AUTHOR, message="Touch the PR")
        await moved.settle()

    text = (elsewhere / "repos" / REPO / "pulls" / str(review.number) / "questions" / "Q03.yaml").read_text(encoding="utf-8")
    assert load_record_text(text, "Q03.yaml")["status"] == "confirmed"
