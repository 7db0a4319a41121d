"""Every command line shown in the README's Commands section runs.

The lines are read from README.md, not copied here: a command added to or changed in the README
is tested as written. Optional parts (`[--json]`) are tried both left out and put in (the first
of `a|b|c`). Placeholders become real values: the `…` credentials, the example PR number, ports,
ISO times, folders. The commands that need GitHub run against the local GitHub (GITHUB_API_URL,
and `--github-url` for `setup`, which is then played through as a browser would). Long-running
ones (`serve`, `localhub`, `setup`) pass when they come up (serve: /health answers) and are
stopped; every other command must exit 0.
"""
from __future__ import annotations

import html
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from localhub.server import ThreadedHub
from ports import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = "draft-THREAT-MODEL.md"
EXAMPLE_PR = "13293"
NOW = "2026-07-06T09:00:00Z"
CRON_SCHEDULE = re.compile(r"^(\S+\s+){5}(?=[A-Z_]+=|python )")  # `0 9 * * 1  GITHUB_...=… python -m bot ...`


def readme_commands() -> list[str]:
    """The `python -m bot` lines of the Commands section's code, continuations joined, comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    lines, pending, fenced = [], "", False
    for raw in section.splitlines():
        if raw.startswith("```"):
            fenced = not fenced
            continue
        # Indented lines are commands; in a fenced example, the `$ ` lines (and their continuations).
        if not pending and not raw.startswith("    ") and not (fenced and raw.startswith("$ ")):
            continue
        line = raw.strip().removeprefix("$ ")
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        line = re.sub(r"\s+#\s.*$", "", line)
        if "python -m bot" in line and not line.startswith("#"):
            lines.append(CRON_SCHEDULE.sub("", line).strip())
    return lines


def variants(line: str) -> list[str]:
    """Without the optional parts, and with them (first alternative); one line if it has none."""
    bare = re.sub(r"\s*\[[^\]]*\]", "", line)
    full = re.sub(r"\[([^\]]*)\]", lambda m: m.group(1), line)
    full = re.sub(r"(\S+)\|\S+", lambda m: m.group(1).split("|")[0], full)
    return [bare] if bare == full else [bare, full]


@dataclass
class World:
    hub: ThreadedHub
    folder: Path
    app_id: int
    token: str
    pr: int
    secret: str = "readme-secret"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("readme")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (folder / "app.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (folder / "app.pub.pem").write_bytes(public)
    document = (ROOT / "bot" / "demo_data" / DOCUMENT).read_text(encoding="utf-8")
    (folder / DOCUMENT).write_text(document, encoding="utf-8")
    shutil.copytree(ROOT / "questions", folder / "questions")
    config = "family:\n  satellites: [apache/cloudstack-go]\n"
    with ThreadedHub.start() as hub:
        def seed() -> tuple[int, str, int]:
            # A slug of its own: `setup` registers "threat-model-bot" from app.yml on this hub.
            hub.hub.register_app(4242, public, slug="readme-bot")
            hub.hub.add_org("apache", {"daan": "admin"})
            hub.hub.create_repo("apache/cloudstack", {"README.md": "# cloudstack\n", ".github/threat-model-bot.yml": config})
            hub.hub.create_repo("apache/cloudstack-go")
            hub.hub.install_app(4242, "apache")
            hub.hub.push("apache/cloudstack", "threat-model", {DOCUMENT: document}, user="daan")
            number = hub.hub.open_pr("apache/cloudstack", "threat-model", user="daan", title="Add a draft threat model")
            return 4242, hub.hub.personal_token("daan"), number
        app_id, token, number = hub.call(seed)
        yield World(hub, folder, app_id, token, number)


def localised(line: str, world: World) -> str:
    """The README's example values replaced by this world's."""
    replacements = [
        (r"GITHUB_TOKEN=…", f"GITHUB_TOKEN={world.token}"),
        (r"GITHUB_APP_ID=(…|\d+)", f"GITHUB_APP_ID={world.app_id}"),
        (r"GITHUB_PRIVATE_KEY_PATH=\S+", "GITHUB_PRIVATE_KEY_PATH=./app.pem"),
        (r"GITHUB_WEBHOOK_SECRET=…", f"GITHUB_WEBHOOK_SECRET={world.secret}"),
        (r"BOT_STATE_DIR=\S+", f"BOT_STATE_DIR={world.folder / 'service-state'}"),
        (rf"--pr {EXAMPLE_PR}\b", f"--pr {world.pr}"),
        (r"--port (\d+|\$PORT)", f"--port {free_port()}"),
        (r"GITHUB_PRIVATE_KEY=…", 'GITHUB_PRIVATE_KEY="$(cat app.pem)"'),
        (r"--now ISO\b", f"--now {NOW}"),
        (r"--state-dir DIR\b", f"--state-dir {world.folder / 'service-state'}"),
        (r"--webhook-url https://\S+", f"--webhook-url http://127.0.0.1:{free_port()}/webhook"),
        (r"(^|\s)python -m bot ", rf"\1{shlex.quote(sys.executable)} -m bot "),
    ]
    for pattern, value in replacements:
        line = re.sub(pattern, value.replace("\\", "\\\\") if "\\1" not in value else value, line)
    if " -m bot setup " in line:
        line += f" --github-url {world.hub.url}"
    return line


def environment(world: World) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("GITHUB_", "BOT_", "PORT"))}
    # The App's credentials, for the lines that assume them set (a line's own settings win).
    return {**env, "GITHUB_API_URL": world.hub.url, "GITHUB_APP_ID": str(world.app_id),
            "GITHUB_PRIVATE_KEY_PATH": str(world.folder / "app.pem"), "BOT_BATCH_RETRIES": "1"}


CASES = [(line, variant) for line in readme_commands() for variant in variants(line)]


def test_the_commands_section_shows_every_command() -> None:
    shown = {re.search(r"python -m bot (\S+)", line).group(1) for line in readme_commands()}
    assert shown >= {"demo", "setup", "serve", "import", "status", "explain", "plan", "sync", "digest", "localhub"}


@pytest.mark.parametrize(("line", "variant"), CASES, ids=[f"{i}: {variant[:70]}" for i, (_, variant) in enumerate(CASES)])
def test_a_readme_command_runs(world: World, line: str, variant: str, request: pytest.FixtureRequest) -> None:
    command = localised(variant, world)
    if "DATABASE_URL=" in command:  # the PostgreSQL set-up runs on the suite's throwaway server
        url = request.getfixturevalue("postgres_server").new_database()
        command = re.sub(r"DATABASE_URL=\S+", lambda _: f"DATABASE_URL={url}", command)
    kind = re.search(r" -m bot (\S+)", command).group(1)
    folder = world.folder / "setup" if kind == "setup" else world.folder  # setup writes its own .env
    folder.mkdir(exist_ok=True)
    if kind == "setup":
        shutil.copy(ROOT / "app.yml", folder / "app.yml")  # run from a clone, as the README says
    if kind in ("serve", "localhub", "setup"):
        runs_until_stopped(command, kind, folder, world)
        return
    result = subprocess.run(["bash", "-c", command], cwd=folder, env=environment(world), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"{variant}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr


def runs_until_stopped(command: str, kind: str, folder: Path, world: World) -> None:
    process = subprocess.Popen(["bash", "-c", f"exec env {command}"], cwd=folder, env=environment(world),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if kind == "serve":
            port = re.search(r"--port (\d+)", command).group(1)
            assert wait_for_health(int(port), process), process.stdout.read() if process.poll() is not None else ""
        elif kind == "localhub":
            assert wait_for_line(process, "localhub listening on http://127.0.0.1:")
        else:
            first = process.stdout.readline()
            page = re.search(r"Open (http://127\.0\.0\.1:\d+/) in a browser", first)
            assert page, first
            played = play_the_browser(page.group(1))
            assert "Registered" in played
            assert process.wait(timeout=60) == 0
            assert (folder / ".env").stat().st_mode & 0o777 == 0o600
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


def wait_for_health(port: int, process: subprocess.Popen[str], timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return True
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    return False


def wait_for_line(process: subprocess.Popen[str], start: str) -> bool:
    return any(line.startswith(start) for line in process.stdout)


def play_the_browser(page_url: str) -> str:
    page = requests.get(page_url, timeout=30).text
    action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))
    manifest = html.unescape(re.search(r'name="manifest" value="([^"]*)"', page).group(1))
    return requests.post(action, data={"manifest": manifest}, timeout=60).text  # follows GitHub's redirect back


def shown_explain_runs() -> list[tuple[str, str]]:
    """The README's `explain` examples: each fenced `$ ` command with the output printed under it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n### `explain`", 1)[1].split("\n### ", 1)[0]
    runs = []
    for block in re.findall(r"```\n(\$ .*?)```", section, flags=re.S):
        lines = block.rstrip("\n").split("\n")
        command_lines = [lines[0].removeprefix("$ ")]
        while command_lines[-1].endswith("\\"):
            command_lines[-1] = command_lines[-1][:-1]
            command_lines.append(lines[len(command_lines)])
        output = "\n".join(lines[len(command_lines):])
        runs.append((" ".join(part.strip() for part in command_lines), output))
    return runs


@pytest.mark.parametrize(("command", "shown"), shown_explain_runs())
def test_the_explain_examples_print_what_the_readme_shows(command: str, shown: str) -> None:
    command = re.sub(r"(^|\s)python -m bot ", rf"\1{shlex.quote(sys.executable)} -m bot ", command)
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip("\n") == shown
