"""The work in its own process, as `serve` runs it: same results, and the web process outlives it."""
from __future__ import annotations

import asyncio
import os
import signal

from e2e_world import Review, answers_by, notice_in, thread_on

from bot.sandbox import REPO
from bot.service.app import WORKER
from bot.service.worker_process import WorkerProcess


def worker_of(review: Review) -> WorkerProcess:
    worker = review.box.app[WORKER]
    assert isinstance(worker, WorkerProcess)
    return worker


async def test_a_reply_is_read_and_answered_once_by_the_worker_process(review_in_worker_process: Review) -> None:
    review = review_in_worker_process
    hub = review.hub
    assert len(review.records()) > 0, "the PR's questions were imported in the worker process"
    root = await thread_on(review, "Q3")
    hub.faults.duplicate_webhooks(times=1, event="pull_request_review_comment")
    before = len(hub.requests)
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()
    record = review.records()["Q3"]
    assert record["status"] == "confirmed"
    assert len(answers_by(record, "daan")) == 1, "the duplicate delivery had no second effect"
    writes = [r for r in hub.requests[before:] if r.method in ("POST", "PATCH") and "/pulls/" in r.path]
    assert len(writes) == 1, "one notice edit, not two"
    assert "status: **confirmed**" in notice_in(review, root).body
    assert await review.box.failed_deliveries() == 0
    assert not worker_of(review).busy and worker_of(review).restarts == 0


async def test_a_killed_worker_process_is_replaced_and_its_delivery_finishes_once(review_in_worker_process: Review) -> None:
    review = review_in_worker_process
    hub = review.hub
    worker = worker_of(review)
    first_pid = worker.pid
    root = await thread_on(review, "Q3")
    before = len(hub.requests)
    fault = hub.faults.latency("/repos/*/pulls/comments/*", 2.0, method="PATCH", times=1)  # the notice's edit
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    for _ in range(300):
        if fault.hits:
            break
        await asyncio.sleep(0.01)
    assert fault.hits == 1, "the worker process reached the slowed call"
    assert first_pid is not None
    os.kill(first_pid, signal.SIGKILL)
    await review.box.settle(timeout=30)
    assert worker.restarts == 1 and worker.alive and worker.pid != first_pid
    assert await review.box.failed_deliveries() == 0
    record = review.records()["Q3"]
    assert record["status"] == "confirmed" and len(answers_by(record, "daan")) == 1
    assert "status: **confirmed**" in notice_in(review, root).body
    writes = [r for r in hub.requests[before:] if r.method in ("POST", "PATCH") and "/pulls/" in r.path]
    assert len(writes) <= 2, "the notice is edited again at most, never posted a second time"
    assert not [r for r in writes if r.method == "POST"], "no second notice"
