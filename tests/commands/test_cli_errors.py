"""Every failure a person can meet on the command line: one line on stderr, `<command>: ...`,
and the exit code the README lists. The CLI runs as a subprocess, as a person runs it."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sandbox import new_app_key
from ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def bot(*args: str, cwd: Path = ROOT, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("GITHUB_", "BOT_"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env={**clean, **env},
                          capture_output=True, text=True, timeout=timeout)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_version() -> None:
    result = bot("--version")
    assert result.returncode == 0 and result.stdout.strip() == "threat-model-bot 0.1.0"


@pytest.mark.parametrize("args", [
    ("status", "--questions", "{missing}"),
    ("digest", "--questions", "{missing}"),
    ("explain", "--questions", "{missing}"),
    ("plan", "README.md", "--questions", "{missing}"),
    ("sync", "--repo", "apache/cloudstack", "--pr", "1", "--questions", "{missing}"),
])
def test_a_missing_folder_exits_1_naming_it(tmp_path: Path, args: tuple[str, ...]) -> None:
    missing = tmp_path / "no-such-folder"
    result = bot(*[arg.format(missing=missing) for arg in args], GITHUB_TOKEN="unused")
    assert result.returncode == 1
    assert one_line(result).startswith(f"{args[0]}: no such folder: {missing}")


def test_a_missing_env_file_named_on_the_command_line_exits_1(tmp_path: Path) -> None:
    result = bot("serve", "--env-file", str(tmp_path / "prod.env"), cwd=tmp_path)
    assert result.returncode == 1
    assert one_line(result) == f"serve: no such file: {tmp_path / 'prod.env'}"


def test_the_batch_jobs_take_the_app_credentials_from_env(tmp_path: Path) -> None:
    private_key, _ = new_app_key()
    api = f"http://127.0.0.1:{free_port()}"
    (tmp_path / ".env").write_text(f"GITHUB_APP_ID=4242\nGITHUB_API_URL={api}\nGITHUB_PRIVATE_KEY=" +
                                   private_key.strip().replace("\n", "\\n") + "\n")
    result = bot("digest", "--repo", "apache/cloudstack", "--pr", "7", cwd=tmp_path, BOT_BATCH_RETRIES="0")
    assert result.returncode == 1
    # As the App: the first call finds the installation with the App's JWT, at the address .env gives.
    # How long the refusal took depends on the machine, so only its shape is checked.
    assert re.fullmatch(rf"digest: could not reach GitHub at {re.escape(api)}: Connection refused \(tried once over \d+s\); "
                        r"check the network, or GITHUB_API_URL", result.stderr.strip()), result.stderr


def test_a_batch_job_with_a_key_that_is_not_a_key_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / "app.pem").write_text("not a key\n")
    result = bot("sync", "--repo", "apache/cloudstack", "--pr", "7", "--questions", str(ROOT / "questions"),
                 cwd=tmp_path, GITHUB_APP_ID="4242", GITHUB_PRIVATE_KEY_PATH="app.pem",
                 GITHUB_API_URL=f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert one_line(result).startswith("sync: GITHUB_PRIVATE_KEY_PATH (app.pem) is not a PEM private key")


def test_a_closed_pipe_ends_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte, as `| head` is after its lines
    try:
        result = subprocess.run([sys.executable, "-m", "bot", "status", "--json"], cwd=ROOT, stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert result.returncode == 141 and result.stderr == ""


def test_the_network_failing_shows_each_retry_then_one_line_with_what_was_tried(tmp_path: Path) -> None:
    api = f"http://127.0.0.1:{free_port()}"
    for command in ("sync", "digest"):
        result = bot(command, "--repo", "apache/cloudstack", "--pr", "7", "--questions", str(ROOT / "questions"),
                     cwd=tmp_path, GITHUB_TOKEN="t", GITHUB_API_URL=api, BOT_BATCH_RETRIES="2")
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert lines[:2] == [f"{command}: GET /repos/apache/cloudstack/pulls/7: Connection refused; retrying now (1 left)",
                             f"{command}: GET /repos/apache/cloudstack/pulls/7: Connection refused; retrying in 2s (0 left)"]
        assert len(lines) == 3 and lines[2].startswith(f"{command}: could not reach GitHub at {api}: Connection refused "
                                                       "(tried 3 times over ")
        assert lines[2].endswith("; check the network, or GITHUB_API_URL")


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    private_key, _ = new_app_key()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = bot("serve", "--host", "127.0.0.1", "--port", str(port), cwd=tmp_path, GITHUB_APP_ID="1",
                     GITHUB_PRIVATE_KEY=private_key, GITHUB_WEBHOOK_SECRET="s",
                     GITHUB_API_URL=f"http://127.0.0.1:{free_port()}", BOT_STATE_DIR=str(tmp_path / "state"))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last == (f"serve: port {port} is already in use on 127.0.0.1; stop what holds it or choose another with "
                    "--port (or PORT)")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["localhub", "setup"])
def test_a_port_in_use_is_one_line_for_the_other_listeners_too(tmp_path: Path, command: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        extra = ("--manifest", str(ROOT / "app.yml"), "--webhook-url", "https://bot.example.net/webhook") if command == "setup" else ()
        result = bot(command, "--port", str(port), *extra, cwd=tmp_path)
    assert result.returncode == 2
    assert one_line(result).startswith(f"{command}: port {port} is already in use on 127.0.0.1; choose another with --port")


def test_digest_needs_both_repo_and_pr_or_neither() -> None:
    result = bot("digest", "--repo", "apache/cloudstack")
    assert result.returncode == 2
    assert one_line(result) == "digest: give both --repo and --pr (a PR on GitHub), or neither (the local records)"


def test_setup_without_a_webhook_url_says_what_to_pass(tmp_path: Path) -> None:
    result = bot("setup", "--manifest", str(ROOT / "app.yml"), cwd=tmp_path)
    assert result.returncode == 2
    assert one_line(result).startswith("setup: pass --webhook-url with the deployed service's address")


def test_setup_will_not_overwrite_an_app_already_in_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GITHUB_APP_ID=12\n")
    result = bot("setup", "--manifest", str(ROOT / "app.yml"), "--webhook-url", "https://bot.example.net/webhook",
                 cwd=tmp_path)
    assert result.returncode == 2
    assert one_line(result) == "setup: .env already holds App 12's credentials; move it away or pass --force to replace them"


def test_ctrl_c_while_setup_waits_ends_with_130_and_one_line(tmp_path: Path) -> None:
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("GITHUB_", "BOT_"))}
    process = subprocess.Popen([sys.executable, "-m", "bot", "setup", "--manifest", str(ROOT / "app.yml"),
                                "--webhook-url", "https://bot.example.net/webhook"], cwd=tmp_path, env=clean,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "Open http://127.0.0.1:" in process.stdout.readline()  # it is waiting for the browser
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 130
    assert errors.strip() == "setup: interrupted"
    assert not (tmp_path / ".env").exists()


def test_a_usage_error_is_one_line_in_the_same_style() -> None:
    result = bot("status", "--now", "yesterday")
    assert result.returncode == 2
    assert one_line(result) == "status: argument --now: not an ISO 8601 time: 'yesterday' (see: python -m bot status --help)"
    result = bot("sync", "--pr", "3")
    assert result.returncode == 2
    assert one_line(result) == "sync: the following arguments are required: --repo (see: python -m bot sync --help)"
