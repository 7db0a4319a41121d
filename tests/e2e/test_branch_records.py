"""Records on a branch of the repository (`records: {location: branch}`): written with
optimistic concurrency on each file's sha, people's edits there taken and never overwritten."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_world import (
    AUTHOR,
    BRANCH,
    DOC,
    FIXTURE,
    MAINTAINERS,
    Review,
    api_calls_since,
    thread_on,
)

from bot.core.settings import CONFIG_PATH
from bot.sandbox import REPO, sandbox, start_service
from bot.store.yamlio import load_record_text

ON_BOTH_DATABASES = True  # the `review` here runs on SQLite and on PostgreSQL (conftest.py)

RECORDS = "threat-model-records"
CONFIG = f"records:\n  location: branch\n  branch: {RECORDS}\n"


@pytest.fixture
async def review(tmp_path: Path, database: str | None) -> AsyncIterator[Review]:
    files = {"README.md": "# cloudstack\n", CONFIG_PATH: CONFIG}
    async with sandbox(tmp_path / "state", maintainers=MAINTAINERS, files=files, database_url=database) as box:
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
    async with start_service(hub, elsewhere, review.box.private_key,
                             database_url=review.box.config.database_url) as moved:  # webhooks now go here
        hub.push(REPO, BRANCH, {"NOTES.md": "moved hosts\n"}, user=AUTHOR, message="Touch the PR")
        await moved.settle()

    text = (elsewhere / "repos" / REPO / "pulls" / str(review.number) / "questions" / "Q03.yaml").read_text(encoding="utf-8")
    assert load_record_text(text, "Q03.yaml")["status"] == "confirmed"


async def confirm(review: Review, question_id: str, *, user: str = "daan") -> None:
    root = await thread_on(review, question_id)
    review.hub.reply(REPO, review.number, root, "/confirm", user=user)
    await review.box.settle()


def refusal_reports(review: Review) -> list[str]:
    return [c.body for c in review.hub.state.issue_comments.values() if "refuses the bot's writes" in c.body]


async def test_a_refusal_that_is_not_a_move_keeps_the_bots_change_and_says_so_once(review: Review) -> None:
    hub = review.hub
    hub.faults.conflict(f"/repos/{REPO}/contents/questions/pr-1/*", method="PUT", times=None,
                        message="Repository rule violations found")  # a ruleset: nothing moved

    await confirm(review, "Q3")
    await confirm(review, "Q5")

    assert (review.records()["Q3"]["status"], review.records()["Q5"]["status"]) == ("confirmed", "confirmed")
    assert len(refusal_reports(review)) == 1
    assert await review.box.failed_deliveries() == 0
    assert review.state().records_refused_until is not None  # the scheduler waits before retrying
    hub.faults.http.clear()
    await confirm(review, "Q6")  # the next delivery on the PR writes what was kept
    for name in ("Q03.yaml", "Q05.yaml", "Q06.yaml"):
        assert load_record_text(on_branch(review, name), name)["status"] == "confirmed"
    assert review.state().records_refused_until is None


async def test_a_deleted_records_branch_is_rebuilt_with_every_record_and_none_is_lost(review: Review) -> None:
    hub = review.hub
    await confirm(review, "Q5")
    del hub.state.repo_named(REPO).refs[f"heads/{RECORDS}"]  # deleted, and no webhook heard of it

    await confirm(review, "Q3")

    for name in ("Q03.yaml", "Q05.yaml"):
        assert load_record_text(on_branch(review, name), name)["status"] == "confirmed"
    assert {path.name for path in (review.state_dir / "repos" / REPO / "pulls" / "1" / "questions").glob("*.yaml")} == {
        f"Q{int(qid[1:]):02d}.yaml" for qid in review.records()
    }
    hub.push(REPO, RECORDS, {"NOTES.md": "hello\n"}, user="vish", message="A note")  # read back
    await review.box.settle()
    assert review.records()["Q5"]["status"] == "confirmed"


async def test_a_first_import_the_branch_refuses_is_reported_not_a_failed_delivery(tmp_path: Path) -> None:
    files = {"README.md": "# cloudstack\n", CONFIG_PATH: CONFIG}
    async with sandbox(tmp_path / "state", maintainers=MAINTAINERS, files=files) as box:
        box.hub.faults.error(f"/repos/{REPO}/git/*", status=403, method="POST", times=None,
                             message="Resource not accessible by integration")
        box.hub.push(REPO, BRANCH, {DOC: FIXTURE.read_text(encoding="utf-8")}, user=AUTHOR, message="Add")
        box.hub.open_pr(REPO, BRANCH, user=AUTHOR, title="Add")
        await box.settle()

        assert await box.failed_deliveries() == 0
        assert sum("refuses the bot's writes" in c.body for c in box.hub.state.issue_comments.values()) == 1
        assert box.hub.file(REPO, "README.md", ref=RECORDS) is None  # no branch was made


async def test_a_persons_edit_over_changes_not_yet_written_gets_the_history_replayed_into_it(review: Review) -> None:
    hub = review.hub
    hub.faults.error(f"/repos/{REPO}/contents/questions/*", status=403, method="PUT", times=None,
                     message="Resource not accessible by integration")
    await confirm(review, "Q5")  # kept here: the branch refuses it
    hub.faults.http.clear()

    text = edited(on_branch(review, "Q05.yaml"), "PMC: see the sizing notes")
    hub.push(REPO, RECORDS, {"questions/pr-1/Q05.yaml": text}, user="vish", message="Note")
    await review.box.settle()

    assert review.records()["Q5"]["status"] == "confirmed"  # the /confirm, replayed from the PR
    after = on_branch(review, "Q05.yaml")
    assert after.startswith("# PMC: see the sizing notes\n")
    assert load_record_text(after, "Q05.yaml")["status"] == "confirmed"
    assert review.state().needs_reconcile is False


async def test_an_import_that_meets_a_persons_edit_is_redone_on_top_of_it(review: Review) -> None:
    hub = review.hub
    held = hub.faults.latency(f"/repos/{REPO}/contents/questions/pr-1/Q05.yaml", seconds=0.5, method="PUT", times=1)
    original = FIXTURE.read_text(encoding="utf-8")
    reworded = original.replace("the HTTP layer cap is the only\nbound", "the HTTP layer cap and the parser cap are the\nbounds")
    assert reworded != original
    hub.push(REPO, BRANCH, {DOC: reworded}, user=AUTHOR, message="Reword Q5")

    async def a_person_edits_while_the_bots_write_waits() -> None:
        while held.hits == 0:
            await asyncio.sleep(0.01)
        hub.faults.drop_webhooks(times=1, event="push")  # so the bot learns of it only from its refused write
        hub.push(REPO, RECORDS, {"questions/pr-1/Q05.yaml": edited(on_branch(review, "Q05.yaml"), "PMC note")},
                 user="vish", message="Note")

    await asyncio.wait_for(a_person_edits_while_the_bots_write_waits(), 10)
    await review.box.settle()

    after = on_branch(review, "Q05.yaml")
    assert after.startswith("# PMC note\n")  # theirs, kept
    assert "parser cap" in after and "parser cap" in local(review, "Q05.yaml")  # and the import, redone


BROKEN = "id: Q5\nstatus: [unclosed\n"


def status_on_branch(review: Review, name: str) -> str | None:
    text = on_branch(review, name)
    return None if text is None else load_record_text(text, name).get("status")


async def push_record(review: Review, name: str, text: str | None, message: str = "Edit") -> None:
    review.hub.push(REPO, RECORDS, {f"questions/pr-1/{name}": text}, user="vish", message=message)
    await review.box.settle()


def delete_records_branch(review: Review, *, announce: bool) -> None:
    if announce:  # as GitHub does: a push with `deleted: true`, and a delete event
        review.hub.delete_branch(REPO, RECORDS, user="vish")
    else:  # gone, and no webhook heard of it
        del review.hub.state.repo_named(REPO).refs[f"heads/{RECORDS}"]


@pytest.mark.parametrize("undo", ["revert", "delete"])
async def test_a_held_record_is_written_again_once_its_broken_version_is_gone(review: Review, undo: str) -> None:
    good = on_branch(review, "Q05.yaml")
    await push_record(review, "Q05.yaml", BROKEN, "Oops")
    assert "Q05.yaml" in review.state().records_held

    await push_record(review, "Q05.yaml", good if undo == "revert" else None, "Undo the oops")
    await confirm(review, "Q5")

    assert review.state().records_held == {}
    assert status_on_branch(review, "Q05.yaml") == "confirmed"


async def test_a_deleted_branch_is_rebuilt_with_a_held_record_too(review: Review) -> None:
    await push_record(review, "Q05.yaml", BROKEN, "Oops")
    delete_records_branch(review, announce=True)
    await review.box.settle()

    await confirm(review, "Q3")

    assert status_on_branch(review, "Q03.yaml") == "confirmed"
    assert status_on_branch(review, "Q05.yaml") == "open"  # the bot's good copy, back on the branch


async def test_an_answer_given_while_a_record_was_held_survives_the_persons_fix(review: Review) -> None:
    await review.box.scheduler.tick()  # the start-up reconcile is behind us
    good = on_branch(review, "Q05.yaml")
    await push_record(review, "Q05.yaml", BROKEN, "Oops")
    await confirm(review, "Q5")

    await push_record(review, "Q05.yaml", edited(good, "fixed from my own copy"), "Fix")  # lacks the /confirm

    assert review.records()["Q5"]["status"] == "confirmed"
    after = on_branch(review, "Q05.yaml")
    assert after.startswith("# fixed from my own copy\n") and status_on_branch(review, "Q05.yaml") == "confirmed"


async def test_another_write_racing_ours_is_retried_not_reported_as_a_refusal(review: Review) -> None:
    review.hub.faults.conflict(f"/repos/{REPO}/contents/questions/pr-1/Q03.yaml", method="PUT", times=1,
                               message="is at 1a2b3c but expected 4d5e6f")

    await confirm(review, "Q3")

    assert status_on_branch(review, "Q03.yaml") == "confirmed"
    assert refusal_reports(review) == []


async def test_a_late_deleted_event_after_the_rebuild_costs_no_takeover(review: Review) -> None:
    repo = review.hub.state.repo_named(REPO)
    before = repo.refs.pop(f"heads/{RECORDS}")
    await confirm(review, "Q3")  # rebuilds the branch
    review.hub.actions.announce_deleted(repo, f"heads/{RECORDS}", before, "vish")  # the deletion's events, late
    await review.box.settle()

    await confirm(review, "Q5")  # its write finds every other file already there, byte for byte

    state = review.state()
    assert state.needs_reconcile is False and state.head_sha is not None
    assert status_on_branch(review, "Q05.yaml") == "confirmed"


async def test_an_import_kept_here_then_replaced_by_a_persons_edit_comes_back_at_once(review: Review) -> None:
    hub = review.hub
    for path in ("contents/questions/*", "git/*"):
        hub.faults.error(f"/repos/{REPO}/{path}", status=403, method="PUT" if "contents" in path else "POST", times=None,
                         message="Resource not accessible by integration")
    reworded = FIXTURE.read_text(encoding="utf-8").replace("the HTTP layer cap is the only\nbound",
                                                            "the HTTP layer cap and the parser cap are the\nbounds")
    hub.push(REPO, BRANCH, {DOC: reworded}, user=AUTHOR, message="Reword Q5")
    await review.box.settle()
    assert "parser cap" in local(review, "Q05.yaml") and "parser cap" not in on_branch(review, "Q05.yaml")
    hub.faults.http.clear()

    await push_record(review, "Q05.yaml", edited(on_branch(review, "Q05.yaml"), "PMC note"), "Note")

    after = on_branch(review, "Q05.yaml")
    assert after.startswith("# PMC note\n") and "parser cap" in after


async def test_a_silently_deleted_branch_gets_every_record_back_with_a_several_file_write(review: Review) -> None:
    await review.box.scheduler.tick()
    delete_records_branch(review, announce=False)
    review.hub.faults.drop_webhooks(times=1, event="push")  # nor does the bot hear of its own re-creation

    review.hub.comment(REPO, review.number, "Q3: confirm\nQ5: confirm", user="daan")  # two records at once
    await review.box.settle()

    names = {path.name for path in (review.state_dir / "repos" / REPO / "pulls" / "1" / "questions").glob("*.yaml")}
    assert all(on_branch(review, name) == local(review, name) for name in names)
    assert (status_on_branch(review, "Q03.yaml"), status_on_branch(review, "Q05.yaml")) == ("confirmed", "confirmed")
