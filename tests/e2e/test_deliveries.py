"""Deliveries as GitHub really makes them: forged, duplicated, reordered, dropped, cut by a restart."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from e2e_world import AUTHOR, BRANCH, DOC, FIXTURE, MAINTAINERS, Review, answers_by, notice_in, thread_on

from bot.sandbox import APP_ID, INSTALLATION_ID, ORG, REPO, new_app_key, start_service
from databases import BOTH
from localhub.server import LocalHub


async def test_a_delivery_signed_with_the_wrong_secret_changes_nothing(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    records_before = review.records()
    hub.set_webhook(review.box.webhook_url, "not-the-apps-secret")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await hub.deliveries_settled()
    hub.set_webhook(review.box.webhook_url, review.box.config.webhook_secret)
    await review.box.settle()
    assert hub.deliveries[-1].status_code == 401
    assert review.records() == records_before
    assert notice_in(review, root) is not None and review.records()["Q3"]["status"] == "open"


async def test_a_duplicated_delivery_is_handled_once(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q3")
    hub.faults.duplicate_webhooks(times=1, event="pull_request_review_comment")
    before = len(hub.requests)
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()
    replies = [d for d in hub.deliveries if d.event == "pull_request_review_comment" and d.payload["comment"]["user"]["login"] == "daan"]
    assert len(replies) == 2 and replies[0].guid == replies[1].guid
    assert len(answers_by(review.records()["Q3"], "daan")) == 1
    writes = [r for r in hub.requests[before:] if r.method in ("POST", "PATCH") and "/pulls/" in r.path]
    assert len(writes) == 1, "one notice edit, not two"
    notice_in(review, root)


async def test_reordered_deliveries_give_the_newest_version_of_an_edited_reply(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q12")
    hub.faults.reorder_webhooks(count=2, event="pull_request_review_comment")
    reply = hub.reply(REPO, review.number, root, "/confirm", user="daan")
    hub.clock.advance(1)  # GitHub's timestamps have one-second precision: make the edit visibly newer
    hub.edit_comment(REPO, reply, "/strike", user="daan")
    await review.box.settle()
    order = [d.payload["action"] for d in hub.deliveries if d.event == "pull_request_review_comment" and d.payload["comment"]["id"] == reply]
    assert order == ["edited", "created"], "the edit arrived first"
    record = review.records()["Q12"]
    assert record["status"] == "struck"
    assert [a["stance"] for a in answers_by(record, "daan")] == ["strike"]


async def test_a_delete_overtaking_its_create_leaves_nothing_behind(review: Review) -> None:
    hub = review.hub
    root = await thread_on(review, "Q5")
    hub.faults.reorder_webhooks(count=2, event="pull_request_review_comment")
    reply = hub.reply(REPO, review.number, root, "/strike", user="daan")
    hub.delete_comment(REPO, reply, user="daan")
    await review.box.settle()
    record = review.records()["Q5"]
    assert record["status"] == "open" and not answers_by(record, "daan")


async def test_a_reply_whose_thread_start_was_never_delivered_is_mapped_by_looking_it_up(review: Review) -> None:
    hub = review.hub
    hub.faults.drop_webhooks(times=1, event="pull_request_review_comment")
    root = hub.review_comment(REPO, review.number, DOC, review.line_of("Q6"), "Is it on everywhere?", user=AUTHOR)
    await review.box.settle()
    assert str(root) not in review.state().threads, "the first comment was dropped"
    before = len(hub.requests)
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()
    assert review.records()["Q6"]["status"] == "confirmed"
    assert review.state().threads[str(root)] == "Q6"
    assert hub.count_requests("GET", f"/repos/{REPO}/pulls/comments/{root}") == 1
    assert [r.path for r in hub.requests[before:] if r.path == f"/repos/{REPO}/pulls/comments/{root}"]
    notice_in(review, root)


async def _world(tmp_path: Path):
    """The hub of the sandbox, built by hand so a test can stop and restart the service."""
    private_key, public_key = new_app_key()
    hub_cm = LocalHub.start()
    hub = await hub_cm.__aenter__()
    hub.register_app(APP_ID, public_key)
    hub.add_org(ORG, MAINTAINERS)
    hub.create_repo(REPO, {"README.md": "# cloudstack\n"})
    hub.install_app(APP_ID, ORG, installation_id=INSTALLATION_ID)
    return hub_cm, hub, private_key



async def _stop_mid_delivery_then_resume(
    tmp_path: Path, database: str | None, path_glob: str, method: str, *, thread_first: bool = False,
) -> None:
    state = tmp_path / "state"
    hub_cm, hub, key = await _world(tmp_path)
    try:
        async with start_service(hub, state, key, database_url=database) as box:
            hub.push(REPO, BRANCH, {DOC: FIXTURE.read_text(encoding="utf-8")}, user=AUTHOR, message="Add a draft threat model")
            number = hub.open_pr(REPO, BRANCH, user=AUTHOR, title="Add a draft threat model")
            await box.settle()
            review = Review(box, number, state)
            root = await thread_on(review, "Q3") if thread_first else None
            answered = hub.count_requests(method, path_glob)
            fault = hub.faults.latency(path_glob, 0.6, method=method, times=1)
            if root is None:
                # A maintainer's review comment on Q3: the handler reads the settings, records, then posts the notice.
                root = hub.review_comment(REPO, number, DOC, review.line_of("Q3"), "/confirm", user="daan")
            else:
                hub.reply(REPO, number, root, "/confirm", user="daan")  # the thread's notice exists: it is edited
            for _ in range(200):
                if fault.hits:
                    break
                await asyncio.sleep(0.01)
            assert fault.hits == 1, "the handler reached the slowed call"
        # The service is gone mid-delivery. Whatever the slowed call did, a new one resumes the work;
        # with PostgreSQL, on an empty disk (a platform's restart). The hub logs a request once it has
        # answered it, so wait for that rather than for a guess at its latency.
        for _ in range(500):
            if hub.count_requests(method, path_glob) > answered:
                break
            await asyncio.sleep(0.01)
        assert hub.count_requests(method, path_glob) == answered + 1, "the hub finished the slowed call"
        if database is not None:
            state = tmp_path / "empty-disk"
        async with start_service(hub, state, key, database_url=database) as box:
            review = Review(box, number, state)
            await box.settle()
            assert await box.failed_deliveries() == 0
            record = review.records()["Q3"]
            assert record["status"] == "confirmed"
            assert len(answers_by(record, "daan")) == 1
            notice = notice_in(review, root)  # exactly one notice in the thread
            assert "status: **confirmed**" in notice.body
    finally:
        await hub_cm.__aexit__(None, None, None)


@pytest.mark.parametrize("database", BOTH, indirect=True)
async def test_a_restart_before_the_handler_reads_the_settings_resumes_the_delivery(tmp_path: Path, database: str | None) -> None:
    await _stop_mid_delivery_then_resume(tmp_path, database, "/repos/*/contents/.github/*", "GET")


@pytest.mark.parametrize("database", BOTH, indirect=True)
async def test_a_restart_while_the_notice_is_being_posted_still_leaves_one_notice(tmp_path: Path, database: str | None) -> None:
    await _stop_mid_delivery_then_resume(tmp_path, database, "/repos/*/pulls/*/comments/*/replies", "POST")


@pytest.mark.parametrize("database", BOTH, indirect=True)
async def test_a_restart_while_the_notice_is_being_edited_still_brings_it_up_to_date(tmp_path: Path, database: str | None) -> None:
    await _stop_mid_delivery_then_resume(tmp_path, database, "/repos/*/pulls/comments/*", "PATCH", thread_first=True)
