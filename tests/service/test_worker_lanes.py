"""Small pieces of the worker and intake: how deliveries are laned, and acks-before-work."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bot.service.intake import lane_of
from bot.service.worker import AckFirst

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "service"


def test_a_pr_event_and_a_pr_conversation_comment_share_the_prs_lane() -> None:
    review_comment = json.loads((FIXTURES / "pull_request_review_comment.created.json").read_text())
    conversation = json.loads((FIXTURES / "issue_comment.created.with-installation.json").read_text())
    assert lane_of(review_comment, "Codertocat/Hello-World") == "Codertocat/Hello-World#2"
    conversation["issue"]["number"] = 2
    assert lane_of(conversation, "Codertocat/Hello-World") == "Codertocat/Hello-World#2"


def test_events_without_a_pr_fall_back_to_repository_installation_then_app() -> None:
    assert lane_of({"number": 5}, "o/r") == "o/r#5"
    assert lane_of({"ref": "refs/heads/main"}, "o/r") == "o/r"
    assert lane_of({"installation": {"id": 9}}, None) == "installation:9"
    ping = json.loads((FIXTURES / "ping.json").read_text())
    assert lane_of(ping, None) == "app"


async def test_work_waits_for_acks_but_never_longer_than_the_bound() -> None:
    ack_first = AckFirst(max_defer=0.2)
    started = time.monotonic()
    await ack_first.wait_quiet()  # nothing in flight: no wait at all
    assert time.monotonic() - started < 0.05

    ack_first.enter()
    started = time.monotonic()
    await ack_first.wait_quiet()  # an ack never finishes: the bound lets work go on
    assert 0.15 <= time.monotonic() - started < 1.0

    waiter = asyncio.create_task(ack_first.wait_quiet())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    ack_first.leave()  # the last ack went out: work starts at once
    await asyncio.wait_for(waiter, 0.1)
