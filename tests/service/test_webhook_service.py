"""The webhook service end to end, against a real running aiohttp app (TestServer on loopback).

Handlers here are real gidgethub Router callbacks registered by the test; everything between
the HTTP request and the callback is the production code path.
"""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.runtime.app import INBOX, WORKER, create_app
from bot.service.runtime.handler_context import Context, PermanentFailure
from bot.service.runtime.routing import ComposedRouter, build_router, compose
from bot.service.runtime.service_config import ServiceConfig

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "service"
SECRET = "It's a Secret to Everybody"
REPO_ROOT = Path(__file__).resolve().parents[2]


def payload(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def signed_headers(body: bytes, event: str, delivery_id: str | None = None, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }


ON_BOTH_DATABASES = True  # every test with `config` runs on SQLite and on PostgreSQL


@pytest.fixture
def config(tmp_path: Path, private_key_pem: str, database: str | None) -> ServiceConfig:
    return ServiceConfig(
        database_url=database,
        app_id="1",
        private_key=private_key_pem,
        webhook_secret=SECRET,
        api_url="http://127.0.0.1:9",  # nothing listens: these tests never call GitHub
        state_dir=tmp_path / "state",
        max_body_bytes=64 * 1024,
        retry_base_seconds=0.01,
        retry_max_seconds=0.05,
        max_attempts=3,
    )


class Recorder:
    """A handler set for review comments that records what it saw; `gate` can hold it mid-flight."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.gate: asyncio.Event | None = None
        self.failures_left = 0
        self.permanent = False
        self.router = Router()
        self.router.add(self.on_comment, "pull_request_review_comment", action="created")
        self.router.add(self.on_comment, "issue_comment")

    async def on_comment(self, event: Event, ctx: Context) -> None:
        self.started.append(event.delivery_id)
        if self.gate is not None:
            await self.gate.wait()
        if self.permanent:
            raise PermanentFailure("the PR is gone")
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("GitHub had a bad moment")
        if await ctx.once(f"comment:{event.data['comment']['id']}:{event.data['comment']['updated_at']}"):
            self.finished.append(event.delivery_id)

    def composed(self) -> ComposedRouter:
        return compose(self.router)


@asynccontextmanager
async def running(config: ServiceConfig, router: ComposedRouter) -> AsyncIterator[tuple[TestClient, web.Application]]:
    app = create_app(config, router=router)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client, app
    finally:
        await client.close()


async def post(client: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    response = await client.post("/webhook", data=body, headers=headers)
    return response.status, await response.text()


async def inbox_counts(app: web.Application) -> dict[str, int]:
    return await app[INBOX].counts()


# ---- verification and refusal ------------------------------------------------------------


async def test_missing_or_bad_signature_is_401_and_nothing_is_recorded(config: ServiceConfig) -> None:
    recorder = Recorder()
    body = payload("pull_request_review_comment.created")
    async with running(config, recorder.composed()) as (client, app):
        unsigned = signed_headers(body, "pull_request_review_comment")
        del unsigned["X-Hub-Signature-256"]
        assert (await post(client, body, unsigned))[0] == 401
        assert (await post(client, body, signed_headers(body, "pull_request_review_comment", secret="wrong")))[0] == 401
        tampered = signed_headers(body, "pull_request_review_comment")
        assert (await post(client, body + b" ", tampered))[0] == 401
        legacy_only = signed_headers(body, "pull_request_review_comment")
        legacy_only["X-Hub-Signature"] = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
        del legacy_only["X-Hub-Signature-256"]
        assert (await post(client, body, legacy_only))[0] == 401
        assert await inbox_counts(app) == {}
    assert recorder.started == []


async def test_oversized_body_is_413_whether_declared_or_streamed(config: ServiceConfig) -> None:
    recorder = Recorder()
    big = json.dumps({"action": "created", "padding": "x" * (config.max_body_bytes + 10)}).encode()
    async with running(config, recorder.composed()) as (client, app):
        assert (await post(client, big, signed_headers(big, "issue_comment")))[0] == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked transfer
            for start in range(0, len(big), 8192):
                yield big[start:start + 8192]

        response = await client.post("/webhook", data=chunks(), headers=signed_headers(big, "issue_comment"))
        assert response.status == 413
        assert await inbox_counts(app) == {}


async def test_a_body_that_stalls_is_answered_408_after_the_read_timeout(config: ServiceConfig) -> None:
    recorder = Recorder()
    async with running(dataclasses.replace(config, body_timeout_seconds=0.3), recorder.composed()) as (client, app):
        reader, writer = await asyncio.open_connection(client.host, client.port)
        writer.write(b"POST /webhook HTTP/1.1\r\nHost: bot\r\nContent-Length: 900\r\n\r\n{\"zen\": ")
        await writer.drain()
        # Without the read timeout no answer would come at all (the body never completes).
        status_line = await asyncio.wait_for(reader.readline(), 10)
        assert status_line.startswith(b"HTTP/1.1 408")
        writer.close()
        assert await inbox_counts(app) == {}


async def test_signed_but_not_json_is_400(config: ServiceConfig) -> None:
    recorder = Recorder()
    async with running(config, recorder.composed()) as (client, app):
        not_utf8_inside = b'{"action": "created", "comment": {"body": "\xff"}}'  # where the intake does not look
        for body in (b"payload=%7B%7D", b"\xff\xfe not utf-8", b"[1, 2, 3]", not_utf8_inside):
            assert (await post(client, body, signed_headers(body, "issue_comment")))[0] == 400
        assert await inbox_counts(app) == {}


async def test_an_event_or_action_nobody_handles_is_202_and_not_recorded(config: ServiceConfig) -> None:
    recorder = Recorder()
    async with running(config, recorder.composed()) as (client, app):
        star = b'{"action": "created", "starred_at": null}'
        status, text = await post(client, star, signed_headers(star, "star"))
        assert (status, text) == (202, "ignored: not handled")
        deleted = json.loads(payload("pull_request_review_comment.created"))
        deleted["action"] = "deleted"  # the test router only handles `created`
        body = json.dumps(deleted).encode()
        status, text = await post(client, body, signed_headers(body, "pull_request_review_comment"))
        assert (status, text) == (202, "ignored: not handled")
        assert await inbox_counts(app) == {}
        await app[WORKER].join()
    assert recorder.started == []


# ---- acceptance, idempotency, ordering ---------------------------------------------------


async def test_an_accepted_delivery_is_recorded_then_handled_once(config: ServiceConfig) -> None:
    recorder = Recorder()
    body = payload("pull_request_review_comment.created")
    async with running(config, recorder.composed()) as (client, app):
        headers = signed_headers(body, "pull_request_review_comment", "d-1")
        assert await post(client, body, headers) == (202, "accepted")
        await app[WORKER].join()
        record = await app[INBOX].get("d-1")
        assert record is not None and record.state == "done" and record.attempts == 1
        assert (record.repo, record.lane, record.installation_id) == ("Codertocat/Hello-World", "Codertocat/Hello-World#2", 1)
        assert record.body == body
        # The same delivery again (GitHub redelivers with the same id): no second effect.
        assert await post(client, body, headers) == (202, "duplicate delivery")
        await app[WORKER].join()
    assert recorder.started == ["d-1"] and recorder.finished == ["d-1"]


async def test_a_second_delivery_of_an_already_handled_comment_has_no_second_effect(config: ServiceConfig) -> None:
    recorder = Recorder()
    body = payload("pull_request_review_comment.created")
    async with running(config, recorder.composed()) as (client, app):
        for delivery_id in ("first", "second"):  # different ids, same comment id + updated_at
            assert (await post(client, body, signed_headers(body, "pull_request_review_comment", delivery_id)))[0] == 202
        await app[WORKER].join()
    assert recorder.started == ["first", "second"]
    assert recorder.finished == ["first"]


async def test_deliveries_for_one_pr_run_in_order_and_other_prs_do_not_wait(config: ServiceConfig) -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    base = json.loads(payload("pull_request_review_comment.created"))

    def comment(number: int, comment_id: int) -> bytes:
        data = json.loads(json.dumps(base))
        data["pull_request"]["number"] = number
        data["comment"]["id"] = comment_id
        return json.dumps(data).encode()

    async with running(config, recorder.composed()) as (client, app):
        for delivery_id, body in (("pr2-a", comment(2, 10)), ("pr2-b", comment(2, 11)), ("pr3-a", comment(3, 12))):
            assert (await post(client, body, signed_headers(body, "pull_request_review_comment", delivery_id)))[0] == 202
        for _ in range(100):
            if len(recorder.started) == 2:
                break
            await asyncio.sleep(0.01)
        # PR 2's second delivery waits behind its first; PR 3 is not held up by PR 2.
        assert sorted(recorder.started) == ["pr2-a", "pr3-a"]
        recorder.gate.set()
        await app[WORKER].join()
    assert recorder.started.index("pr2-a") < recorder.started.index("pr2-b")
    assert sorted(recorder.finished) == ["pr2-a", "pr2-b", "pr3-a"]


# ---- failures and restarts ---------------------------------------------------------------


async def test_a_delivery_over_its_time_budget_fails_and_never_holds_up_another_pr(config: ServiceConfig) -> None:
    recorder = Recorder()
    stuck = asyncio.Event()  # never set: PR 2's handler would wait forever
    base = json.loads(payload("pull_request_review_comment.created"))

    async def on_comment(event: Event, ctx: Context) -> None:
        recorder.started.append(event.delivery_id)
        if event.data["pull_request"]["number"] == 2:
            await stuck.wait()
        recorder.finished.append(event.delivery_id)

    router = Router()
    router.add(on_comment, "pull_request_review_comment", action="created")
    budgeted = dataclasses.replace(config, delivery_budget_seconds=0.3)
    async with running(budgeted, compose(router)) as (client, app):
        for delivery_id, number in (("slow", 2), ("quick", 3)):
            data = json.loads(json.dumps(base))
            data["pull_request"]["number"] = number
            body = json.dumps(data).encode()
            assert (await post(client, body, signed_headers(body, "pull_request_review_comment", delivery_id)))[0] == 202
        for _ in range(100):
            if "quick" in recorder.finished:
                break
            await asyncio.sleep(0.01)
        assert recorder.finished == ["quick"]  # within a second, while "slow" still holds PR 2
        await app[WORKER].join()
        record = await app[INBOX].get("slow")
    assert record is not None and (record.state, record.attempts) == ("failed", config.max_attempts)
    assert "over its time budget" in (record.last_error or "")



async def test_a_failing_delivery_is_retried_with_backoff_then_succeeds(config: ServiceConfig) -> None:
    recorder = Recorder()
    recorder.failures_left = 2
    body = payload("issue_comment.created.with-installation")
    async with running(config, recorder.composed()) as (client, app):
        assert (await post(client, body, signed_headers(body, "issue_comment", "flaky")))[0] == 202
        await app[WORKER].join()
        record = await app[INBOX].get("flaky")
    assert record is not None and (record.state, record.attempts) == ("done", 3)
    assert recorder.started == ["flaky"] * 3 and recorder.finished == ["flaky"]


async def test_a_delivery_that_keeps_failing_is_marked_failed_after_max_attempts(config: ServiceConfig) -> None:
    recorder = Recorder()
    recorder.failures_left = 99
    body = payload("issue_comment.created.with-installation")
    async with running(config, recorder.composed()) as (client, app):
        await post(client, body, signed_headers(body, "issue_comment", "doomed"))
        await app[WORKER].join()
        record = await app[INBOX].get("doomed")
    assert record is not None and (record.state, record.attempts) == ("failed", config.max_attempts)
    assert "GitHub had a bad moment" in (record.last_error or "")


async def test_a_permanent_failure_is_not_retried(config: ServiceConfig) -> None:
    recorder = Recorder()
    recorder.permanent = True
    body = payload("issue_comment.created.with-installation")
    async with running(config, recorder.composed()) as (client, app):
        await post(client, body, signed_headers(body, "issue_comment", "gone"))
        await app[WORKER].join()
        record = await app[INBOX].get("gone")
    assert record is not None and (record.state, record.attempts) == ("failed", 1)
    assert recorder.started == ["gone"]


async def test_a_restart_in_the_middle_of_a_delivery_resumes_it_and_it_completes_once(config: ServiceConfig) -> None:
    body = payload("pull_request_review_comment.created")
    headers = signed_headers(body, "pull_request_review_comment", "interrupted")

    first = Recorder()
    first.gate = asyncio.Event()  # never set: the first process dies mid-delivery
    async with running(config, first.composed()) as (client, app):
        assert await post(client, body, headers) == (202, "accepted")
        for _ in range(200):
            if first.started:
                break
            await asyncio.sleep(0.01)
        assert first.started == ["interrupted"]
    assert first.finished == []

    second = Recorder()  # a new process on the same state directory
    async with running(config, second.composed()) as (client, app):
        await app[WORKER].join()
        record = await app[INBOX].get("interrupted")
        assert record is not None and record.state == "done"
        assert await post(client, body, headers) == (202, "duplicate delivery")
        await app[WORKER].join()
    assert second.started == ["interrupted"] and second.finished == ["interrupted"]


# ---- the real router, health, the command ------------------------------------------------


async def test_ping_goes_through_the_real_router_end_to_end(config: ServiceConfig, caplog: pytest.LogCaptureFixture) -> None:
    composed = build_router()
    body = payload("ping")
    caplog.set_level(logging.INFO)
    async with running(config, composed) as (client, app):
        assert await post(client, body, signed_headers(body, "ping", "ping-1")) == (202, "accepted")
        await app[WORKER].join()
        health = await (await client.get("/health")).json()
    zen = json.loads(body)["zen"]
    assert any(message.startswith("[ping-1] ") and zen in message for message in caplog.messages)
    assert any("delivery ping-1 ping" in message and "outcome=done" in message for message in caplog.messages)
    assert health == {"status": "ok", "deliveries": {"done": 1}, "worker_busy": False}


def test_serve_refuses_to_start_without_a_webhook_secret(tmp_path: Path, private_key_pem: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": private_key_pem,
           "BOT_STATE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "GITHUB_WEBHOOK_SECRET" in result.stderr
    assert "GITHUB_APP_ID" not in result.stderr  # only what is actually missing is named
    assert "`python -m bot setup` writes one" in result.stderr  # no .env here: it says what makes one


def test_config_names_every_missing_variable_and_reads_the_key_from_a_file(tmp_path: Path, private_key_pem: str) -> None:
    from bot.service.runtime.service_config import ConfigError

    with pytest.raises(ConfigError) as caught:
        ServiceConfig.from_env({})
    for name in ("GITHUB_WEBHOOK_SECRET", "GITHUB_APP_ID", "GITHUB_PRIVATE_KEY"):
        assert name in str(caught.value)
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_key_pem)
    config = ServiceConfig.from_env({
        "GITHUB_WEBHOOK_SECRET": "s", "GITHUB_APP_ID": "7", "GITHUB_PRIVATE_KEY_PATH": str(key_file),
        "GITHUB_API_URL": "http://127.0.0.1:8000/", "BOT_STATE_DIR": str(tmp_path / "st"),
    })
    assert (config.app_id, config.private_key, config.api_url) == ("7", private_key_pem, "http://127.0.0.1:8000")
    assert (config.state_dir, config.database_url) == (tmp_path / "st", None)
    assert config.takeover_after_seconds == 30.0
    faster = ServiceConfig.from_env({"GITHUB_WEBHOOK_SECRET": "s", "GITHUB_APP_ID": "7",
                                     "GITHUB_PRIVATE_KEY": private_key_pem, "BOT_TAKEOVER_SECONDS": "3"})
    assert faster.takeover_after_seconds == 3.0
    one_line = private_key_pem.replace("\n", "\\n")
    assert ServiceConfig.from_env({"GITHUB_WEBHOOK_SECRET": "s", "GITHUB_APP_ID": "7",
                                   "GITHUB_PRIVATE_KEY": one_line}).private_key == private_key_pem
    with pytest.raises(ConfigError, match="GITHUB_PRIVATE_KEY_PATH"):
        ServiceConfig.from_env({"GITHUB_WEBHOOK_SECRET": "s", "GITHUB_APP_ID": "7",
                                "GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "missing.pem")})
