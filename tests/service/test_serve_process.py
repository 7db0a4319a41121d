"""`python -m bot serve` as a real process: SIGTERM at several moments, hostile connections.

Each test starts `serve` on a free loopback port with its own state directory, does something
to it, sends SIGTERM and checks that it is gone within 10 s, with a short log and no traceback,
and that the inbox holds what a restart needs.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store.inbox import SqliteInbox
from ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "service"
SECRET = "serve-process-secret"
STOP_WITHIN_SECONDS = 10.0
GITHUB_DELIVERY_TIMEOUT_SECONDS = 10.0


class BlackHole:
    """A "GitHub" that accepts connections and never answers: handlers calling it hang."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(connection)

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()


class Serve:
    def __init__(self, state_dir: Path, private_key_pem: str, api_url: str, **extra_env: str) -> None:
        key_file = state_dir.parent / "app.pem"
        key_file.write_text(private_key_pem)
        self.port = free_port()
        self.state_dir = state_dir
        env = {"PATH": "/usr/bin:/bin", "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY_PATH": str(key_file),
               "GITHUB_WEBHOOK_SECRET": SECRET, "BOT_STATE_DIR": str(state_dir), "BOT_SCHEDULER": "off",
               "GITHUB_API_URL": api_url, **extra_env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.log = ""

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_until_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url("/health"), timeout=1).read()
                return
            except OSError:
                assert self.process.poll() is None, "serve ended while starting"
                time.sleep(0.05)
        raise AssertionError("serve did not start listening")

    def post(self, body: bytes, event: str, delivery_id: str) -> int:
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(self.url("/webhook"), data=body, headers={
            "X-Hub-Signature-256": signature, "X-GitHub-Event": event, "X-GitHub-Delivery": delivery_id,
            "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def terminate(self) -> float:
        """SIGTERM; returns how long it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_WITHIN_SECONDS + 5)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.log = self.process.stderr.read() if self.process.stderr else ""
        return time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def serve(tmp_path: Path, private_key_pem: str) -> Iterator[Serve]:
    github = BlackHole()
    running = Serve(tmp_path / "state", private_key_pem, github.url)
    yield running
    running.kill()
    github.close()


def assert_stopped_cleanly(serve: Serve, took: float) -> None:
    assert took < STOP_WITHIN_SECONDS, f"serve took {took:.1f}s to stop"
    assert serve.process.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in serve.log
    assert len(serve.log.splitlines()) < 30


def inbox_counts(state_dir: Path) -> dict[str, int]:
    async def read() -> dict[str, int]:
        inbox = await SqliteInbox.open(state_dir / "inbox.sqlite3")
        try:
            return await inbox.counts()
        finally:
            await inbox.close()

    return asyncio.run(read())


def test_it_takes_deliveries_before_github_has_answered_who_the_app_is(serve: Serve) -> None:
    serve.wait_until_listening()
    with urllib.request.urlopen(serve.url("/health"), timeout=5) as response:
        assert json.load(response)["github"]["state"] == "unchecked"  # GitHub (a black hole) never answered
    assert serve.post((FIXTURES / "ping.json").read_bytes(), "ping", "early") == 202
    assert_stopped_cleanly(serve, serve.terminate())


@pytest.mark.parametrize("after", [0.2, 0.8])
def test_sigterm_during_start_up(serve: Serve, after: float) -> None:
    time.sleep(after)  # still importing, or opening the inbox
    assert_stopped_cleanly(serve, serve.terminate())


def test_sigterm_with_a_delivery_in_flight_leaves_it_pending_for_the_next_start(serve: Serve) -> None:
    serve.wait_until_listening()
    body = (FIXTURES / "pull_request_review_comment.created.json").read_bytes()
    assert serve.post(body, "pull_request_review_comment", "in-flight") == 202
    time.sleep(0.5)  # its handler is now waiting on a GitHub that never answers
    assert_stopped_cleanly(serve, serve.terminate())
    assert inbox_counts(serve.state_dir) == {"pending": 1}, serve.log


def test_sigterm_after_an_oversized_body(serve: Serve) -> None:
    serve.wait_until_listening()
    big = b'{"zen": "' + b"x" * (30 * 1024 * 1024) + b'"}'
    assert serve.post(big, "ping", "too-big") == 413
    assert serve.post((FIXTURES / "ping.json").read_bytes(), "ping", "after") == 202  # still serving
    assert_stopped_cleanly(serve, serve.terminate())


def test_sigterm_with_slow_and_half_sent_requests_open(serve: Serve) -> None:
    serve.wait_until_listening()
    half_header = socket.create_connection(("127.0.0.1", serve.port))
    half_header.sendall(b"POST /webhook HTTP/1.1\r\nHost: bot\r\nContent-Le")
    half_body = socket.create_connection(("127.0.0.1", serve.port))
    half_body.sendall(b"POST /webhook HTTP/1.1\r\nHost: bot\r\nContent-Length: 5000\r\n\r\n{\"zen\": ")
    gone = socket.create_connection(("127.0.0.1", serve.port))  # goes away mid-body
    gone.sendall(b"POST /webhook HTTP/1.1\r\nHost: bot\r\nContent-Length: 5000\r\n\r\n{\"zen\": ")
    time.sleep(0.3)
    gone.close()
    time.sleep(0.3)
    try:
        assert_stopped_cleanly(serve, serve.terminate())
    finally:
        half_header.close()
        half_body.close()
    assert "went away before its body was read" in serve.log  # one short line, no traceback


def test_stalled_connections_never_lock_out_health_or_new_deliveries(tmp_path: Path, private_key_pem: str) -> None:
    github = BlackHole()
    serve = Serve(tmp_path / "state", private_key_pem, github.url, BOT_MAX_CONNECTIONS="16", BOT_BODY_TIMEOUT_SECONDS="1")
    stalled: list[socket.socket] = []
    try:
        serve.wait_until_listening()
        for _ in range(60):  # far more than the limit, each stalled mid-header or mid-body
            connection = socket.create_connection(("127.0.0.1", serve.port))
            connection.sendall(b"POST /webhook HTTP/1.1\r\nHost: bot\r\nContent-Length: 900\r\n\r\n{")
            stalled.append(connection)
        time.sleep(1.2)  # quiet for over a second: the oldest make room for new clients
        started = time.monotonic()
        with urllib.request.urlopen(serve.url("/health"), timeout=5) as response:
            assert response.status == 200
        assert serve.post((FIXTURES / "ping.json").read_bytes(), "ping", "through") == 202
        # GitHub waits 10 s for a delivery's answer: stalled clients must not push a real one past it.
        assert time.monotonic() - started < GITHUB_DELIVERY_TIMEOUT_SECONDS
        assert_stopped_cleanly(serve, serve.terminate())
    finally:
        for connection in stalled:
            connection.close()
        serve.kill()
        github.close()
    assert "Too many open files" not in serve.log
