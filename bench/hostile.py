"""Benchmark: what hostile content from any GitHub user costs the service, and whether it holds.

    .venv/bin/python bench/hostile.py [--fast] [--only NAME ...] [--no-memory]

Each attack runs against the real service and the local GitHub (the sandbox the end-to-end
tests use: signed webhooks over HTTP, the service's own inbox and worker), in a fresh
sandbox with a threat-model PR open, and prints one row:

    attack | outcome | wall s | CPU s | API calls | peak MB | what was checked

- outcome: `held` (the check passed) or `FAILED`;
- wall s: from the attack's first write to the sandbox settling (every delivery handled);
- CPU s: this process's CPU over that time (service, worker and local GitHub share it: an
  upper bound on the service's own);
- API calls: requests the service made to the local GitHub (token minting excluded);
- peak MB: the largest Python allocation peak during the attack (tracemalloc; --no-memory
  skips it, which makes the CPU figures a little lower).

`--fast` shrinks the expensive shapes (a test runs it, tests/e2e/test_hostile_bench.py).
Bounded: every attack has a fixed size, and waits at most 120 s for the sandbox to settle.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.limits import LOGINS_PER_COMMENT  # noqa: E402
from bot.sandbox import REPO, Sandbox, sandbox  # noqa: E402
from bot.store.folder import FolderStore  # noqa: E402
from bot.store.pull_state import load_pull_state, pull_directory  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "documents" / "cloudstack-shaped.md"
DOC = "draft-THREAT-MODEL.md"
AUTHOR, PASSERBY = "asf-sec", "passerby"
MAINTAINERS = {"daan": "member", "vish": "member"}
SETTLE_SECONDS = 120.0


@dataclass
class World:
    box: Sandbox
    number: int
    state_dir: Path
    fast: bool

    @property
    def hub(self):
        return self.box.hub

    def records(self, number: int | None = None) -> dict:
        return FolderStore(pull_directory(self.state_dir, REPO, number or self.number) / "questions").load()

    def line_of(self, question_id: str) -> int:
        return load_pull_state(self.state_dir, REPO, self.number).spans[question_id][0]

    async def thread(self, question_id: str) -> int:
        root = self.hub.review_comment(REPO, self.number, DOC, self.line_of(question_id), f"{question_id}?", user=AUTHOR)
        await self.settle()
        return root

    async def settle(self) -> None:
        await self.box.settle(timeout=SETTLE_SECONDS)

    def bot_remarks(self, number: int | None = None) -> list:
        return [c for c in self.hub.state.issue_comments.values() if c.issue_number == (number or self.number) and c.user.endswith("[bot]")]

    def bot_issues(self) -> list:
        return [issue for issue in self.hub.state.issues.values() if not issue.is_pull and issue.user.endswith("[bot]")]


@dataclass
class Outcome:
    held: bool
    checked: str


@dataclass
class Row:
    attack: str
    outcome: str
    wall: float
    cpu: float
    api_calls: int
    peak_mb: float | None
    checked: str


Attack = Callable[[World], Awaitable[Outcome]]


# --------------------------------------------------------------------------- content attacks


async def _confirmed_within(world: World, number: int, question_id: str) -> float | None:
    """Seconds until the record says confirmed (polled), or None if it never does."""
    started = time.perf_counter()
    while time.perf_counter() - started < SETTLE_SECONDS:
        if world.records(number)[question_id]["status"] == "confirmed":
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    return None


async def _flood_then_confirm(world: World, body: str) -> Outcome:
    """A passer-by posts `body`; a maintainer's /confirm right after it takes effect within 2 s."""
    root = await world.thread("Q3")
    world.hub.comment(REPO, world.number, body, user=PASSERBY)
    world.hub.reply(REPO, world.number, root, "/confirm", user="daan")
    waited = await _confirmed_within(world, world.number, "Q3")
    await world.settle()
    failed = await world.box.failed_deliveries()
    shown = f"{waited:.2f} s" if waited is not None else "never"
    return Outcome(failed == 0 and waited is not None and waited < 2.0,
                   f"{len(body):,} chars; /confirm after it took effect after {shown}; failed deliveries: {failed}")


def _size(world: World, full: int) -> int:
    return min(full, 2_000) if world.fast else full


async def digit_run(world: World) -> Outcome:
    return await _flood_then_confirm(world, "Q" + "0" * _size(world, 16_000) + "x")


async def open_brackets(world: World) -> Outcome:
    return await _flood_then_confirm(world, "[" * _size(world, 32_768))


async def quadratic_mix(world: World) -> Outcome:
    unit = "Q1 [a](b `c` *d* \"e\" /f\\ "
    return await _flood_then_confirm(world, (unit * (_size(world, 60_000) // len(unit)))[:65_536])


async def poison_digits(world: World) -> Outcome:
    """Q + 5,000 digits once made the reader raise: the PR must never fail for good."""
    root = await world.thread("Q3")
    world.hub.reply(REPO, world.number, root, "Ref Q" + "1" * 5_000, user=PASSERBY)
    world.hub.reply(REPO, world.number, root, "/confirm", user="daan")
    await world.settle()
    await world.box.scheduler.tick(reconcile_all=True)
    failed = await world.box.failed_deliveries()
    state = load_pull_state(world.state_dir, REPO, world.number)
    status = world.records()["Q3"]["status"]
    return Outcome(failed == 0 and status == "confirmed" and not state.needs_reconcile,
                   f"/confirm after it: {status}; reconcile ran; failed deliveries: {failed}")


def yaml_bomb(levels: int) -> str:
    names = [chr(ord("a") + n) for n in range(levels)]
    lines = [f"a: &a [{', '.join(['lol'] * 9)}]"]
    lines += [f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]" for previous, name in pairwise(names)]
    return "\n".join(lines) + "\n"


async def settings_bomb(world: World) -> Outcome:
    world.hub.push(REPO, "main", {".github/threat-model-bot.yml": yaml_bomb(8)}, user="daan", message="Configure")
    await world.settle()
    world.hub.comment(REPO, world.number, "Q3: confirm", user="daan")
    await world.settle()
    remarks = world.bot_remarks()
    size = max((len(c.body) for c in remarks), default=0)
    failed = await world.box.failed_deliveries()
    return Outcome(len(remarks) == 1 and size < 1_000 and failed == 0, f"{len(remarks)} error comment of {size} chars; failed: {failed}")


async def many_asks(world: World) -> Outcome:
    asks = "\n".join(f"/ask @reviewer-{n} Q8" for n in range(500))
    world.hub.comment(REPO, world.number, "Q3: confirm", user="vish")
    await world.settle()
    start = len(world.hub.requests)
    world.hub.comment(REPO, world.number, asks, user=PASSERBY)
    world.hub.comment(REPO, world.number, asks, user="daan")
    await world.settle()
    calls = _api_calls(world, start)
    bound = 2 * (3 + 2 * LOGINS_PER_COMMENT)
    return Outcome(calls <= bound, f"{calls} API calls for two 500-login comments (bound {bound})")


async def passerby_ask(world: World) -> Outcome:
    root = await world.thread("Q3")
    world.hub.reply(REPO, world.number, root, "/confirm", user="daan")
    await world.settle()
    world.hub.reply(REPO, world.number, root, "/ask @vish", user=PASSERBY)
    await world.settle()
    record = world.records()["Q3"]
    held = record["status"] == "confirmed" and not record.get("awaiting")
    return Outcome(held, f"after a passer-by's /ask: {record['status']}, awaiting {list(record.get('awaiting') or [])}")


def many_questions(count: int) -> str:
    head, _, _ = FIXTURE.read_text(encoding="utf-8").partition("## §14 Open questions for the maintainers")
    questions = "".join(f"**Q{n}.** Is component {n} out of scope? *(maps to §6)*\n\n" for n in range(1, count + 1))
    return f"{head}## §14 Open questions for the maintainers\n\n### Wave 1 — everything\n\n{questions}## Appendix\n\nNone.\n"


async def huge_document(world: World) -> Outcome:
    world.hub.push(REPO, "huge", {"docs/HUGE-THREAT-MODEL.md": many_questions(5_000)}, user=AUTHOR, message="huge")
    number = world.hub.open_pr(REPO, "huge", user=AUTHOR, title="Huge")
    await world.settle()
    tracked = load_pull_state(world.state_dir, REPO, number).document_path is not None
    remarks = world.bot_remarks(number)
    return Outcome(not tracked and len(remarks) == 1, f"tracked: {tracked}; remarks: {len(remarks)}")


async def marker_title(world: World) -> Outcome:
    root = await world.thread("Q11")
    world.hub.reply(REPO, world.number, root, "/followup Q11 Check --> <img src=x> @vish <!-- hidden", user="daan")
    await world.settle()
    issues = world.bot_issues()
    if len(issues) != 1:
        return Outcome(False, f"{len(issues)} issues opened")
    body = issues[0].body
    world.hub.close_issue(REPO, issues[0].number, user="daan")
    await world.settle()
    closed = [item for item in world.records()["Q11"].get("followups") or () if item.get("state") == "closed"]
    held = body.count("-->") == 1 and "<img" not in body and "@vish" not in body and len(closed) == 1
    return Outcome(held, f"marker closes once: {body.count('-->') == 1}; closing updates the record: {bool(closed)}")


async def long_title(world: World) -> Outcome:
    root = await world.thread("Q11")
    world.hub.reply(REPO, world.number, root, "/confirm\n/followup Q11 " + "a very long title " * 20, user="daan")
    await world.settle()
    status = world.records()["Q11"]["status"]
    remarks = [c for c in world.bot_remarks() if "was not opened" in c.body]
    failed = await world.box.failed_deliveries()
    return Outcome(status == "confirmed" and len(remarks) == 1 and not world.bot_issues() and failed == 0,
                   f"/confirm beside it: {status}; remarks: {len(remarks)}; issues: {len(world.bot_issues())}")


async def refused_followup(world: World) -> Outcome:
    root = await world.thread("Q5")
    world.hub.faults.error(f"/repos/{REPO}/issues", status=422, method="POST", times=None, message="Validation Failed")
    world.hub.reply(REPO, world.number, root, "/confirm\n/followup Q5 Add a regression test", user="daan")
    await world.settle()
    status = world.records()["Q5"]["status"]
    remarks = [c for c in world.bot_remarks() if "was not opened" in c.body]
    return Outcome(status == "confirmed" and len(remarks) == 1, f"/confirm beside it: {status}; reported {len(remarks)}×")


async def same_second_edits(world: World) -> Outcome:
    root = await world.thread("Q3")
    reply = world.hub.reply(REPO, world.number, root, "/strike", user="daan")
    for body in ("/correct the release manager holds the key", "/confirm"):
        world.hub.edit_comment(REPO, reply, body, user="daan")
    await world.settle()
    status = world.records()["Q3"]["status"]
    return Outcome(status == "confirmed", f"after /strike → /correct → /confirm in one second: {status}")


async def glob_everything(world: World) -> Outcome:
    world.hub.push(REPO, "main", {".github/threat-model-bot.yml": "document: '**/*'\n"}, user="daan", message="Configure")
    await world.settle()
    world.hub.push(REPO, "two", {"README.md": "# notes\n", "OTHER-THREAT-MODEL.md": "# model\n"}, user=AUTHOR, message="two")
    number = world.hub.open_pr(REPO, "two", user=AUTHOR, title="Two")
    await world.settle()
    remarks = world.bot_remarks(number)
    named = bool(remarks) and "`README.md`" in remarks[0].body
    tracked = load_pull_state(world.state_dir, REPO, number).document_path is not None
    return Outcome(named and not tracked, f"remark names the files: {named}; tracked: {tracked}")


async def flood_beside_confirm(world: World) -> Outcome:
    """A maintainer's /confirm on PR 2 while PR 1 is flooded with the worst shapes."""
    world.hub.push(REPO, "second", {DOC: FIXTURE.read_text(encoding="utf-8")}, user=AUTHOR, message="again")
    second = world.hub.open_pr(REPO, "second", user=AUTHOR, title="Second")
    await world.settle()
    size = _size(world, 20_000)
    for body in ("Q" + "0" * size + "x", "[" * size, "Ref Q" + "1" * 5_000):
        world.hub.comment(REPO, world.number, body, user=PASSERBY)
    world.hub.comment(REPO, second, "Q3: confirm", user="daan")
    waited = await _confirmed_within(world, second, "Q3")
    await world.settle()
    shown = f"{waited:.2f} s" if waited is not None else "never"
    return Outcome(waited is not None and waited < 2.0, f"/confirm on PR 2 took effect after {shown} (target < 2 s)")


# --------------------------------------------------------------------------- intake attacks


def _service_address(world: World) -> tuple[str, int]:
    host_port = world.box.webhook_url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    return host, int(port)


async def _health_seconds(world: World) -> float | None:
    host, port = _service_address(world)
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
        writer.write(f"GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        return time.perf_counter() - started if b" 200 " in status else None
    except (TimeoutError, OSError):
        return None


async def _open_body(world: World, head: bytes) -> asyncio.StreamWriter:
    """A connection (non-blocking: the service shares this event loop) that sent `head` only."""
    host, port = _service_address(world)
    _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
    writer.write(head)
    await writer.drain()
    return writer


async def stalled_connections(world: World) -> Outcome:
    """Unsigned POSTs that announce a body and never send it, then /health."""
    host, _ = _service_address(world)
    count = 50 if world.fast else 1_100  # the issue's count: over the default 1,024 open files
    head = f"POST /webhook HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 20000\r\n\r\n{{".encode()
    writers = [await _open_body(world, head) for _ in range(count)]
    await asyncio.sleep(0.5)
    health = await _health_seconds(world)
    for writer in writers:
        writer.close()
    shown = f"{health * 1000:.0f} ms" if health is not None else "no answer"
    return Outcome(health is not None and health < 1.0, f"/health with {count} stalled bodies: {shown}")


async def disconnects(world: World) -> Outcome:
    """Clients that go away mid-body: the service stays up, with a short log line and no traceback."""
    host, _ = _service_address(world)
    head = f"POST /webhook HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5000\r\n\r\n{{\"a\": ".encode()
    tracebacks = _TracebackCounter()
    logging.getLogger().addHandler(tracebacks)
    try:
        for _ in range(20 if world.fast else 200):
            (await _open_body(world, head)).close()
        await asyncio.sleep(0.5)
        health = await _health_seconds(world)
    finally:
        logging.getLogger().removeHandler(tracebacks)
    return Outcome(health is not None and tracebacks.count == 0,
                   f"/health: {'ok' if health is not None else 'no answer'}; log records with a traceback: {tracebacks.count}")


class _TracebackCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += record.exc_info is not None


# --------------------------------------------------------------------------- running


ATTACKS: dict[str, Attack] = {
    "digit run (Q + 16,000 zeros)": digit_run,
    "open brackets (32,768 ×[)": open_brackets,
    "mixed shapes (64 KB)": quadratic_mix,
    "Q + 5,000 digits (reader raises)": poison_digits,
    "YAML bomb in settings": settings_bomb,
    "500 /ask logins": many_asks,
    "passer-by /ask on a confirmed question": passerby_ask,
    "document with 5,000 questions": huge_document,
    "--> and <img> in a follow-up title": marker_title,
    "follow-up title over 256 chars": long_title,
    "follow-up GitHub refuses (422)": refused_followup,
    "same-second edits": same_second_edits,
    "document: '**/*'": glob_everything,
    "flood PR 1, /confirm on PR 2": flood_beside_confirm,
    "stalled request bodies": stalled_connections,
    "clients disconnect mid-body": disconnects,
}
FAST = [
    "Q + 5,000 digits (reader raises)", "YAML bomb in settings", "500 /ask logins", "passer-by /ask on a confirmed question",
    "--> and <img> in a follow-up title", "follow-up title over 256 chars", "same-second edits", "document: '**/*'",
]


def _api_calls(world: World, start: int) -> int:
    return len([r for r in world.hub.requests[start:] if not r.path.startswith("/app/")])


async def run_attack(name: str, attack: Attack, *, fast: bool, memory: bool) -> Row:
    with tempfile.TemporaryDirectory(prefix="hostile-") as temp:
        state_dir = Path(temp) / "state"
        async with sandbox(state_dir, maintainers=MAINTAINERS) as box:
            box.hub.add_user(PASSERBY)
            box.hub.push(REPO, "threat-model", {DOC: FIXTURE.read_text(encoding="utf-8")}, user=AUTHOR, message="Add a draft threat model")
            number = box.hub.open_pr(REPO, "threat-model", user=AUTHOR, title="Add a draft threat model")
            await box.settle()
            world = World(box, number, state_dir, fast)
            start_calls = len(box.hub.requests)
            if memory:
                tracemalloc.start()
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                outcome = await attack(world)
            except Exception as error:  # noqa: BLE001 - a crashed attack is a FAILED row, not a crashed bench
                outcome = Outcome(False, f"{type(error).__name__}: {str(error)[:120]}")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            peak = None
            if memory:
                peak = tracemalloc.get_traced_memory()[1] / 1e6
                tracemalloc.stop()
            calls = _api_calls(world, start_calls)
    verdict = "held" if outcome.held else "FAILED"
    return Row(name, verdict, wall, cpu, calls, peak, outcome.checked)


def print_table(rows: list[Row]) -> None:
    print("| attack | outcome | wall s | CPU s | API calls | peak MB | checked |")
    print("|---|---|---:|---:|---:|---:|---|")
    for row in rows:
        peak = f"{row.peak_mb:.1f}" if row.peak_mb is not None else "–"
        print(f"| {row.attack} | {row.outcome} | {row.wall:.2f} | {row.cpu:.2f} | {row.api_calls} | {peak} | {row.checked} |")


async def main_async(names: list[str], *, fast: bool, memory: bool) -> list[Row]:
    rows = []
    for name in names:
        rows.append(await run_attack(name, ATTACKS[name], fast=fast, memory=memory))
        print(f"  {name}: {rows[-1].outcome} ({rows[-1].wall:.2f} s)", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="the quick subset at reduced sizes (what the test runs)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="attacks whose name contains any of these words")
    parser.add_argument("--no-memory", action="store_true", help="skip tracemalloc (lower CPU overhead, no peak MB)")
    args = parser.parse_args(argv)
    names = FAST if args.fast else list(ATTACKS)
    if args.only:
        names = [name for name in ATTACKS if any(word.lower() in name.lower() for word in args.only)]
    rows = asyncio.run(main_async(names, fast=args.fast, memory=not args.no_memory))
    print_table(rows)
    return 0 if all(row.outcome != "FAILED" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
