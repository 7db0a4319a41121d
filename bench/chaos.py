"""Chaos run: a scripted review through real `serve` processes while GitHub misbehaves.

    .venv/bin/python bench/chaos.py [--database sqlite|postgres] [--instances 2] [--deliveries 1000]

The local GitHub runs here; one or more `python -m bot serve` processes run beside it (on one
SQLite state directory, or on a throwaway PostgreSQL with a state directory each), behind a
small front that hands each webhook to a live instance, as a platform's router would (holding
it up to 9 s while none listens; GitHub waits 10 s). The
script opens threat-model PRs and, on each open question, a review thread, a maintainer's
`/confirm` and on some a `/followup`, until GitHub has sent `--deliveries` webhooks. Meanwhile:

  * 10% of the webhooks are sent twice (same X-GitHub-Delivery), 5% are held and reordered;
  * 20% of the App's API calls are answered 502, 503 or 504;
  * for `--rate-limit-seconds` (60) every call gets a secondary rate limit (403, retry-after);
  * an instance is killed with SIGKILL twice, a third and two thirds of the way, and started
    again; webhooks sent while no instance listens fail, as they do on GitHub.

At the end every instance is restarted once more (a start reconciles each PR with GitHub: the
safety net for webhooks that never arrived) and the run waits until nothing is pending. Then
it counts, from the local GitHub and the service's records, each expected effect: one notice
per thread, one answer per `/confirm`, one follow-up issue per `/followup`. It prints how many
were lost (0 found) and doubled (more than 1); both must be 0, and the exit code says so.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web  # noqa: E402

from bot.core.document import parse_document  # noqa: E402
from bot.sandbox import APP_ID, INSTALLATION_ID, ORG, REPO, new_app_key  # noqa: E402
from bot.service.features.followup_issues import parse_followup_marker  # noqa: E402
from bot.store.folder import FolderStore  # noqa: E402
from bot.store.pull_state import pull_directory  # noqa: E402
from localhub.faults import Fault, Faults  # noqa: E402
from localhub.server import LocalHub  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "documents" / "cloudstack-shaped.md"
DOC = "draft-THREAT-MODEL.md"
AUTHOR, MAINTAINERS = "asf-sec", {"daan": "member", "vish": "member"}
SECRET = "chaos-secret"


class Chaos:
    """A random 5xx rate and a timed rate limit, put in front of the local GitHub's own fault
    switchboard (which still holds the duplicated and reordered webhooks)."""

    def __init__(self, faults: Faults, error_rate: float, rng: random.Random) -> None:
        self._faults_match = faults.match_http
        self.error_rate = error_rate
        self.rng = rng
        self.limited_until = 0.0
        self.injected: dict[str, int] = {"5xx": 0, "rate_limited": 0}
        self.kills = 0
        faults.match_http = self.match_http  # type: ignore[method-assign]

    def match_http(self, method: str, path: str) -> Fault | None:
        if path.startswith("/app/installations/") and path.endswith("/access_tokens"):
            return self._faults_match(method, path)  # tokens: let the App in, or nothing is tested
        now = time.monotonic()
        if now < self.limited_until:
            self.injected["rate_limited"] += 1
            return Fault("secondary_rate_limit", status=403, retry_after=math.ceil(self.limited_until - now))
        if self.rng.random() < self.error_rate:
            self.injected["5xx"] += 1
            return Fault("error", status=self.rng.choice((502, 503, 504)), message="Server Error")
        return self._faults_match(method, path)


@dataclass
class Instance:
    name: str
    state_dir: Path
    env: dict[str, str]
    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.port = _free_port()
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child writes to it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env={**self.env, "BOT_STATE_DIR": str(self.state_dir)}, stdout=log, stderr=log,
        )
        log.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Script:
    """What the review asked for, to count the effects against."""

    threads: list[tuple[int, int]] = field(default_factory=list)  # (pr, root comment id)
    confirms: list[tuple[int, str, str]] = field(default_factory=list)  # (pr, question, login)
    followups: list[tuple[int, str]] = field(default_factory=list)  # (pr, question)


async def wait_until_ready(session: ClientSession, instance: Instance, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not instance.alive():
            raise RuntimeError(f"{instance.name} ended while starting; see {instance.log_path}")
        try:
            async with session.get(instance.url + "/health") as response:
                if response.status == 200:
                    return
        except (TimeoutError, ClientError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{instance.name} did not start; see {instance.log_path}")


def front(instances: list[Instance], session: ClientSession) -> web.Application:
    """Hands each webhook to the next live instance; 502 when none answers (GitHub does not retry)."""
    turn = {"next": 0}

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-") or k.lower() == "content-type"}
        deadline = time.monotonic() + 9.0  # GitHub gives a delivery 10 s
        while time.monotonic() < deadline:
            for _ in range(len(instances)):
                instance = instances[turn["next"] % len(instances)]
                turn["next"] += 1
                if not instance.alive():
                    continue
                try:
                    async with session.post(instance.url + "/webhook", data=body, headers=headers) as response:
                        return web.Response(status=response.status, text=await response.text())
                except (TimeoutError, ClientError):
                    continue
            await asyncio.sleep(0.2)  # no instance listens: a router holds the request a while
        return web.Response(status=502, text="no instance")

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/webhook", forward)
    return app


async def settle(hub: LocalHub, session: ClientSession, instances: list[Instance], timeout: float = 1200.0) -> None:
    """Until GitHub has sent everything and no instance has anything pending or running."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        try:
            await hub.deliveries_settled(timeout=30.0)
        except TimeoutError:
            continue  # GitHub still has webhooks to send (the service's own writes make more)
        busy = False
        for instance in instances:
            async with session.get(instance.url + "/health") as response:
                health = await response.json()
            busy = busy or health["worker_busy"] or health["deliveries"].get("pending", 0) > 0
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the run did not settle")


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="bot-chaos-"))
    postgres = None
    database_url = None
    if args.database == "postgres":
        from localhub.pgserver import ThrowawayPostgres

        postgres = ThrowawayPostgres.start()
        database_url = postgres.new_database()
    private_key, public_key = new_app_key()
    # A new connection per request, as GitHub makes them: a pooled one may be a killed instance's.
    session = ClientSession(timeout=ClientTimeout(total=30), connector=TCPConnector(force_close=True))
    instances: list[Instance] = []
    front_runner: web.AppRunner | None = None
    started = time.monotonic()
    try:
        async with LocalHub.start() as hub:
            faults = Chaos(hub.faults, args.error_rate, rng)
            hub.register_app(APP_ID, public_key)
            hub.add_org(ORG, MAINTAINERS)
            hub.create_repo(REPO, {"README.md": "# cloudstack\n"})
            hub.install_app(APP_ID, ORG, installation_id=INSTALLATION_ID)
            hub.add_user(AUTHOR)

            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GITHUB_APP_ID": str(APP_ID),
                   "GITHUB_PRIVATE_KEY": private_key, "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": hub.url,
                   "LOG_LEVEL": "WARNING", "BOT_MAX_CONNECTIONS": "256",
                   "BOT_TAKEOVER_SECONDS": str(args.takeover_seconds)}
            if database_url:
                env["DATABASE_URL"] = database_url
            for index in range(args.instances):
                # SQLite: one state directory (one inbox) for all; PostgreSQL: a throwaway disk each.
                state_dir = scratch / ("state" if database_url is None else f"state-{index}")
                instances.append(Instance(f"instance-{index}", state_dir, env, scratch / f"instance-{index}.log"))
            for instance in instances:
                instance.start()
            for instance in instances:
                await wait_until_ready(session, instance)
            front_runner = web.AppRunner(front(instances, session), access_log=None)
            await front_runner.setup()
            site = web.TCPSite(front_runner, "127.0.0.1", 0)
            await site.start()
            hub.set_webhook(f"http://127.0.0.1:{front_runner.addresses[0][1]}/webhook", SECRET)

            script = await play(hub, rng, args, instances, session, faults)
            for instance in instances:  # the safety net: each start reconciles every tracked PR
                instance.stop()
                instance.start()
            for instance in instances:
                await wait_until_ready(session, instance)
            await settle(hub, session, instances)
            for instance in instances:
                instance.stop()
            lost, doubled, counted = await count_effects(hub, script, instances, database_url, scratch)
            print_report(args, hub, faults, counted, lost, doubled, time.monotonic() - started)
            return 0 if lost == doubled == 0 else 1
    finally:
        for instance in instances:
            instance.kill()
        if front_runner is not None:
            await front_runner.cleanup()
        await session.close()
        if postgres is not None:
            postgres.stop()
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


async def play(
    hub: LocalHub, rng: random.Random, args: argparse.Namespace, instances: list[Instance],
    session: ClientSession, faults: Chaos,
) -> Script:
    text = FIXTURE.read_text(encoding="utf-8")
    questions = [q for q in parse_document(text, DOC).questions if q.state.name == "OPEN"]
    script = Script()
    kills_at = [args.deliveries // 3, 2 * args.deliveries // 3]
    rate_limit_at = args.deliveries // 2
    pr_index = 0
    while len(hub.deliveries) < args.deliveries:
        pr_index += 1
        branch = f"threat-model-{pr_index}"
        hub.push(REPO, branch, {DOC: text}, user=AUTHOR, message="Add a draft threat model")
        number = hub.open_pr(REPO, branch, user=AUTHOR, title=f"Threat model, take {pr_index}")
        await asyncio.sleep(args.pace * 5)  # the import is read from the document at the PR's head
        for question in questions:
            if len(hub.deliveries) >= args.deliveries:
                break
            _arm_webhook_faults(hub, rng)
            root = hub.review_comment(REPO, number, DOC, question.span.start_line, f"{question.id}: what is decided here?", user=AUTHOR)
            script.threads.append((number, root))
            await asyncio.sleep(args.pace)
            hub.reply(REPO, number, root, "/confirm", user="daan")
            script.confirms.append((number, question.id, "daan"))
            if rng.random() < 0.25:
                await asyncio.sleep(args.pace)
                hub.reply(REPO, number, root, f"/followup {question.id} Write down what {question.id} settles", user="vish")
                script.followups.append((number, question.id))
            await asyncio.sleep(args.pace)
            if kills_at and len(hub.deliveries) >= kills_at[0]:
                kills_at.pop(0)
                await kill_and_restart(instances[0], session, faults)
            await keep_pace(session, instances)
            if rate_limit_at and len(hub.deliveries) >= rate_limit_at:
                rate_limit_at = 0
                faults.limited_until = time.monotonic() + args.rate_limit_seconds
    for _ in kills_at:  # a short run may end before the last one
        await kill_and_restart(instances[0], session, faults)
    return script


async def keep_pace(session: ClientSession, instances: list[Instance], backlog: int = 30) -> None:
    """People wait for the bot now and then: hold the script while the inbox's backlog is long,
    so the run measures faults, not an ever-growing queue on a small machine."""
    for _ in range(600):
        pending = 0
        for instance in instances:
            try:
                async with session.get(instance.url + "/health") as response:
                    pending += (await response.json())["deliveries"].get("pending", 0)
            except (TimeoutError, ClientError):
                pass
        if pending <= backlog:
            return
        await asyncio.sleep(0.5)


async def kill_and_restart(victim: Instance, session: ClientSession, faults: Chaos) -> None:
    """SIGKILL in mid-run: whatever it was doing stays claimed until the takeover timeout."""
    victim.kill()
    faults.kills += 1
    await asyncio.sleep(0.5)
    victim.start()
    await wait_until_ready(session, victim)


def _arm_webhook_faults(hub: LocalHub, rng: random.Random) -> None:
    """About 10% of the next webhooks duplicated and 5% reordered (a comment and its echo make ~2)."""
    roll = rng.random()
    if roll < 0.2:
        hub.faults.duplicate_webhooks(times=1)
    elif roll < 0.3:
        hub.faults.reorder_webhooks(count=2)


async def count_effects(
    hub: LocalHub, script: Script, instances: list[Instance], database_url: str | None, scratch: Path,
) -> tuple[int, int, dict[str, tuple[int, int, int]]]:
    """(lost, doubled, per kind: (expected, lost, doubled))."""
    records_dir = instances[0].state_dir
    if database_url is not None:  # everything is in the database: take a fresh copy of it
        from bot.store.database import open_database

        records_dir = scratch / "final-copy"
        database = await open_database(records_dir, database_url, takeover_after=30.0)
        await database.close()

    bot_comments = [c for c in hub.state.review_comments.values() if c.user.endswith("[bot]")]
    notices = [sum(1 for c in bot_comments if c.in_reply_to_id == root) for _, root in script.threads]

    records: dict[int, dict[str, Any]] = {}
    answers = []
    for number, question_id, login in script.confirms:
        if number not in records:
            records[number] = FolderStore(pull_directory(records_dir, REPO, number) / "questions").load()
        record = records[number].get(question_id) or {}
        answers.append(sum(1 for a in record.get("answers") or () if a.get("author") == login))

    markers = [parse_followup_marker(i.body or "") for i in hub.state.issues.values() if not i.is_pull and i.user.endswith("[bot]")]
    opened = [marker[:3] for marker in markers if marker is not None]
    followups = [opened.count((REPO, number, question_id)) for number, question_id in script.followups]

    counted = {kind: (len(found), sum(1 for n in found if n == 0), sum(1 for n in found if n > 1))
               for kind, found in (("notices", notices), ("answers", answers), ("follow-up issues", followups))}
    return sum(c[1] for c in counted.values()), sum(c[2] for c in counted.values()), counted


def print_report(args: argparse.Namespace, hub: LocalHub, faults: Chaos, counted: dict[str, tuple[int, int, int]],
                 lost: int, doubled: int, seconds: float) -> None:
    deliveries = hub.deliveries
    failed = sum(1 for d in deliveries if not d.status_code or d.status_code >= 300)
    print(f"\nchaos: {args.database}, {args.instances} instance(s), seed {args.seed}, {seconds:.0f} s")
    print(f"  webhooks sent {len(deliveries)} (not accepted: {failed}: no instance up within 9 s)")
    print(f"  GitHub API calls {len(hub.requests)}: {faults.injected['5xx']} answered 5xx, "
          f"{faults.injected['rate_limited']} rate-limited during {args.rate_limit_seconds:.0f} s; {faults.kills} kill -9")
    print(f"  {'effect':18} {'expected':>8} {'lost':>5} {'doubled':>8}")
    for kind, (expected, kind_lost, kind_doubled) in counted.items():
        print(f"  {kind:18} {expected:8} {kind_lost:5} {kind_doubled:8}")
    print(f"lost {lost}, doubled {doubled}")
    if args.keep:
        for delivery in deliveries:
            if not delivery.status_code or delivery.status_code >= 300:
                print(f"    not accepted: {delivery.event}.{delivery.action} {delivery.status_code} {delivery.error or ''}")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--deliveries", type=int, default=1000, help="webhooks GitHub sends before the script stops")
    parser.add_argument("--error-rate", type=float, default=0.2, help="share of API calls answered 5xx")
    parser.add_argument("--rate-limit-seconds", type=float, default=60.0)
    parser.add_argument("--pace", type=float, default=0.05, help="seconds between a person's actions")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--takeover-seconds", type=float, default=30.0,
                        help="BOT_TAKEOVER_SECONDS: how long a killed instance's claims wait (the service's default)")
    parser.add_argument("--keep", action="store_true", help="keep the instances' logs and state")
    args = parser.parse_args(argv)
    if not 1 <= args.instances <= 4 or not 10 <= args.deliveries <= 20_000:
        parser.error("keep --instances within 1..4 and --deliveries within 10..20000")
    if args.database == "sqlite" and args.instances > 1:
        parser.error("several instances need --database postgres (SQLite lives on one machine's disk)")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
