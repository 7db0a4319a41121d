"""Benchmark: what users of the webhook service feel, as three ratios in one run.

    .venv/bin/python bench/webhook.py [--deliveries 3000] [--concurrency 200] [--github-latency 0.3]

1. Acks under load: `--concurrency` signed deliveries always in flight (closed loop), first to a
   bare aiohttp handler that only checks the HMAC, then to the real service (verify, parse,
   insert into the SQLite inbox, 202) while its handlers are busy (each delivery parses a threat
   model and makes a GitHub call) and the local GitHub answers every call `--github-latency` s
   late. Ratio: the service's client-side p99 over the bare handler's (target <= 2).
2. Reply to notice: the real service and router against the local GitHub answering every call
   `--notice-latency` s late; a maintainer's `/confirm` in a question's thread, timed until the
   thread's notice says "confirmed". Ratio: p50 over (API calls on that path + 1) x latency
   (target <= 1: nothing but the calls themselves, and one for the webhook).
3. Memory: the service's resident memory after `--memory-deliveries` (10,000) deliveries, and
   its growth from the halfway point (targets: < 150 MB, not growing).

Each server runs in its own process on loopback; deliveries are real `pull_request_review_comment`
payloads (about 27 KB) spread over 50 PRs. Bounded: fixed counts, loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
PAYLOAD = ROOT / "tests" / "fixtures" / "service" / "pull_request_review_comment.created.json"
DOCUMENT = ROOT / "tests" / "fixtures" / "documents" / "cloudstack-shaped.md"


# ---- servers (each in its own process) -----------------------------------------------------


def _serve(kind: str, conn: Connection, options: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING)
    if options.get("profile"):  # where the server's event loop spends its time
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(asyncio.run, _serve_async(kind, conn, options))
        profiler.dump_stats(options["profile"])
        return
    asyncio.run(_serve_async(kind, conn, options))


async def _serve_async(kind: str, conn: Connection, options: dict[str, Any]) -> None:
    from aiohttp import web

    if kind == "localhub":
        await _serve_localhub(conn, options)
        return
    app, report = _bare_app() if kind == "bare" else _service_app(options)
    handler_ms: list[float] = []

    @web.middleware
    async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            handler_ms.append((time.perf_counter() - started) * 1000)

    app.middlewares.append(timed)
    gc_pauses_ms = _watch_gc()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    conn.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    cpu_started, own_cpu_started = _cpu_seconds(children=True), _cpu_seconds()
    while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
        if command == "rss":  # resident memory once the backlog is handled
            await report(app)
            conn.send(_rss_mb())
            continue
        handler_ms.clear()  # "reset": the warm-up is over
        gc_pauses_ms.clear()
        cpu_started, own_cpu_started = _cpu_seconds(children=True), _cpu_seconds()
        conn.send("ok")
    # The measured run (the drain, below, is not in it); "web": the process that acks, without its worker process.
    cpu_seconds, web_cpu_seconds = _cpu_seconds(children=True) - cpu_started, _cpu_seconds() - own_cpu_started
    conn.send({**(await report(app)), "handler_ms": handler_ms, "cpu_seconds": cpu_seconds, "web_cpu_seconds": web_cpu_seconds,
               "gc_max_ms": round(max(gc_pauses_ms, default=0.0), 1), "gc_collections": len(gc_pauses_ms)})
    await runner.cleanup()


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(*, children: bool = False) -> float:
    """CPU time of this process, every thread (user + system); `children`: plus its running
    child processes (a server's: the service's worker process), read from /proc."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    spawned = multiprocessing.active_children() if children else []
    return usage.ru_utime + usage.ru_stime + sum(_proc_cpu_seconds(child.pid) for child in spawned)


def _proc_cpu_seconds(pid: int | None) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _watch_gc() -> list[float]:
    """Pause of every garbage collection (ms): a full collection over many parsed payloads is
    one of the few things that can hold an ack for tens of milliseconds."""
    import gc

    pauses: list[float] = []
    started: list[float] = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(callback)
    return pauses


def _bare_app() -> tuple[Any, Any]:
    from aiohttp import web

    secret = SECRET.encode()

    async def bare(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), expected):
            return web.Response(status=401)
        return web.Response(status=202, text="accepted")

    app = web.Application(client_max_size=25 * 1024 * 1024)
    app.router.add_post("/webhook", bare)

    async def nothing(_: Any) -> dict[str, Any]:
        return {}

    return app, nothing


def bench_router() -> Any:
    """The router the service runs in the bench: ping, and one GitHub call per review comment
    through the real installation client (token cache, ETag cache, retries). Module level, so the
    worker process can import it."""
    return _router(parse_a_document=False)


def busy_bench_router() -> Any:
    """The same, and each delivery also parses a threat model, as an import does: handlers
    that cost CPU (a few ms each), to show whether they hold up the acks."""
    return _router(parse_a_document=True)


def _router(*, parse_a_document: bool) -> Any:
    from gidgethub.routing import Router
    from gidgethub.sansio import Event

    from bot.core.document import parse_document
    from bot.service.handlers import ping
    from bot.service.runtime.handler_context import Context
    from bot.service.runtime.routing import compose

    router = Router()
    document = DOCUMENT.read_text(encoding="utf-8")

    @router.register("pull_request_review_comment", action="created")
    async def read_repository(event: Event, ctx: Context) -> None:
        assert ctx.gh is not None
        await ctx.gh.getitem(f"/repos/{ctx.repo}")
        if parse_a_document:
            parse_document(document)

    return compose(ping.router, router)


def _service_app(options: dict[str, Any]) -> tuple[Any, Any]:
    from bot.service.runtime import app as service_app
    from bot.service.runtime.service_config import ServiceConfig

    # Production logs a line per delivery: keep that cost, but send it to a file.
    handler = logging.FileHandler(Path(options["state_dir"]) / "service.log")
    logging.getLogger("bot").addHandler(handler)
    logging.getLogger("bot").setLevel(logging.INFO)
    logging.getLogger("bot").propagate = False

    config = ServiceConfig(
        app_id=str(options["app_id"]), private_key=options["private_key"], webhook_secret=SECRET,
        api_url=options["api_url"], state_dir=Path(options["state_dir"]),
        worker_concurrency=options["worker_concurrency"],
        scheduler_enabled=False,
    )
    app = service_app.create_app(config, router=busy_bench_router() if options.get("busy_handlers") else bench_router())

    async def report(app: Any) -> dict[str, Any]:
        worker = app[service_app.WORKER]
        started = time.perf_counter()
        with contextlib.suppress(TimeoutError):  # with a slow GitHub the backlog can outlast the bound: report what is left
            await asyncio.wait_for(worker.join(), timeout=options["drain_timeout"])
        return {
            "drain_seconds": time.perf_counter() - started,
            "inbox": await app[service_app.INBOX].counts(),
        }

    return app, report


async def _serve_localhub(conn: Connection, options: dict[str, Any]) -> None:
    """The local GitHub with the App installed on one repository; every call `latency` s late."""
    from localhub.server import LocalHub

    owner = options["repo"].split("/")[0]
    async with LocalHub.start() as hub:
        hub.register_app(options["app_id"], options["public_key"])
        hub.add_org(owner, {"maintainer": "admin"})
        hub.create_repo(options["repo"], {"README.md": "# bench\n"})
        hub.install_app(options["app_id"], owner, installation_id=options["installation_id"])
        if options["latency"]:
            hub.faults.latency("*", options["latency"])
        conn.send(int(hub.url.rsplit(":", 1)[1]))
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, conn.recv) != "stop":
            conn.send("ok")
        conn.send({"requests": len(hub.requests), "not_modified": hub.count_requests("GET", "*", status=304)})


def hub_options(latency: float) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "app_id": 4242, "installation_id": 77, "repo": "apache/cloudstack", "latency": latency,
        "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode(),
        "public_key": key.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
    }


@dataclass
class Server:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    port: int

    def reset(self) -> None:
        self.conn.send("reset")
        self.conn.recv()

    def rss_mb(self) -> float:
        self.conn.send("rss")
        return float(self.conn.recv())

    def stop(self) -> dict[str, Any]:
        self.conn.send("stop")
        report = self.conn.recv() if self.conn.poll(300) else {"error": "no report"}
        self.process.join(30)
        if self.process.is_alive():
            self.process.terminate()
        return report


def start_server(kind: str, options: dict[str, Any]) -> Server:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    # Not daemonic: the service starts a worker process of its own (stop() ends this one).
    process = context.Process(target=_serve, args=(kind, child, options))
    process.start()
    if not parent.poll(60):
        process.terminate()
        raise RuntimeError(f"{kind} server did not start")
    return Server(process, parent, parent.recv())


# ---- load generator ------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    seconds: float
    statuses: dict[int, int]
    report: dict[str, Any]

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, q: float) -> float:
        return _percentile(self.latencies_ms, q)

    def handler_percentile(self, q: float) -> float:
        return _percentile(self.report.get("handler_ms") or [0.0], q)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def make_bodies(count: int, installation_id: int, repo: str) -> list[tuple[bytes, dict[str, str]]]:
    template = json.loads(PAYLOAD.read_text())
    prepared = []
    for index in range(count):
        data = json.loads(json.dumps(template))
        data["installation"]["id"] = installation_id
        data["pull_request"]["number"] = 1 + index % 50
        data["comment"]["id"] = 10_000_000 + index
        data["repository"]["full_name"] = repo
        body = json.dumps(data).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        prepared.append((body, {
            "Content-Type": "application/json", "X-GitHub-Event": "pull_request_review_comment",
            "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": signature,
            "User-Agent": "GitHub-Hookshot/bench",
        }))
    return prepared


async def drive(port: int, deliveries: list[tuple[bytes, dict[str, str]]], concurrency: int) -> tuple[list[float], float, dict[int, int]]:
    """`concurrency` keep-alive connections, each sending its next delivery as soon as the last is acked.

    A minimal HTTP/1.1 client on asyncio streams with pre-encoded requests: a full client library
    costs more CPU per request than the handlers under test, and on a small machine the load
    generator would then be what is measured.
    """
    requests = [_encode_request(port, body, headers) for body, headers in deliveries]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(requests)

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in queue:  # a shared iterator: each delivery is sent once
                started = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, statuses


def _encode_request(port: int, body: bytes, headers: dict[str, str]) -> bytes:
    head = ["POST /webhook HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def run_phase(name: str, kind: str, options: dict[str, Any], warmup: int, deliveries: int, concurrency: int) -> Result:
    server = start_server(kind, options)
    try:
        bodies = make_bodies(warmup + deliveries, options.get("installation_id", 1), options.get("repo", "o/r"))
        asyncio.run(drive(server.port, bodies[:warmup], concurrency))
        server.reset()
        client_cpu = _cpu_seconds()
        latencies, seconds, statuses = asyncio.run(drive(server.port, bodies[warmup:], concurrency))
        client_cpu = _cpu_seconds() - client_cpu
    finally:
        report = server.stop()
    return Result(name, latencies, seconds, statuses, {**report, "client_cpu_seconds": client_cpu})



# ---- reply to notice --------------------------------------------------------------------


def measure_reply_to_notice(latency: float, replies: int) -> tuple[list[float], list[int]]:
    """The real service and router in this process, the local GitHub answering every call
    `latency` s late: for each maintainer `/confirm`, seconds from the reply until its thread's
    notice says so, and the API calls the service made meanwhile."""
    return asyncio.run(_reply_to_notice(latency, replies))


async def _reply_to_notice(latency: float, replies: int) -> tuple[list[float], list[int]]:
    from bot.core.document import parse_document
    from bot.sandbox import REPO, sandbox

    document = DOCUMENT.read_text(encoding="utf-8")
    doc_path = "draft-THREAT-MODEL.md"
    open_questions = [q for q in parse_document(document, doc_path).questions if q.state.name == "OPEN"]
    seconds: list[float] = []
    calls: list[int] = []
    with tempfile.TemporaryDirectory(prefix="bench-notice-") as state_dir:
        async with sandbox(Path(state_dir), maintainers={"daan": "member"}) as box:
            hub = box.hub
            hub.add_user("asf-sec")
            pr_index = 0
            while len(seconds) < replies:
                pr_index += 1
                hub.push(REPO, f"tm-{pr_index}", {doc_path: document}, user="asf-sec", message="Add a threat model")
                number = hub.open_pr(REPO, f"tm-{pr_index}", user="asf-sec", title="Threat model")
                await box.settle(timeout=120)
                hub.faults.latency("*", latency)  # from here on every call is late (the import was not measured)
                for question in open_questions[: replies - len(seconds)]:
                    root = hub.review_comment(REPO, number, doc_path, question.span.start_line, f"{question.id}?", user="asf-sec")
                    await box.settle(timeout=120)
                    before = len(hub.requests)
                    started = time.perf_counter()
                    hub.reply(REPO, number, root, "/confirm", user="daan")
                    while not _notice_says_confirmed(hub, root):
                        await asyncio.sleep(0.002)
                    seconds.append(time.perf_counter() - started)
                    calls.append(len(hub.requests) - before)
                    await box.settle(timeout=120)
                hub.faults.clear()
    return seconds, calls


def _notice_says_confirmed(hub: Any, root: int) -> bool:
    return any(c.in_reply_to_id == root and c.user.endswith("[bot]") and "status: **confirmed**" in c.body
               for c in hub.state.review_comments.values())


# ---- main ----------------------------------------------------------------------------------


@dataclass
class Hub:
    server: Server
    options: dict[str, Any]


def start_localhub(latency: float) -> Hub:
    options = hub_options(latency)
    server = start_server("localhub", options)
    return Hub(server, {**options, "api_url": f"http://127.0.0.1:{server.port}"})


def measure_memory(scratch: str, total: int, concurrency: int, drain_timeout: float) -> tuple[float, float]:
    """RSS (MB) of the service after half of `total` deliveries and after all of them."""
    hub = start_localhub(0.0)
    try:
        options = {**hub.options, "state_dir": tempfile.mkdtemp(dir=scratch), "worker_concurrency": 8,
                   "drain_timeout": drain_timeout, "busy_handlers": False}
        server = start_server("service", options)
        try:
            bodies = make_bodies(total, options["installation_id"], options["repo"])
            asyncio.run(drive(server.port, bodies[: total // 2], concurrency))
            halfway = server.rss_mb()
            asyncio.run(drive(server.port, bodies[total // 2:], concurrency))
            end = server.rss_mb()
        finally:
            server.stop()
    finally:
        hub.server.stop()
    return halfway, end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=3000, help="measured deliveries for the ack ratio")
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--github-latency", type=float, default=0.3, help="seconds the slow GitHub adds to every call (acks)")
    parser.add_argument("--notice-latency", type=float, default=0.1, help="seconds added to every call (reply to notice)")
    parser.add_argument("--replies", type=int, default=14, help="maintainer replies timed to their notice")
    parser.add_argument("--memory-deliveries", type=int, default=10_000)
    parser.add_argument("--drain-timeout", type=float, default=60.0, help="how long to wait for the worker's backlog")
    args = parser.parse_args(argv)
    if not 1 <= args.deliveries <= 100_000 or not 1 <= args.concurrency <= 1000 or not 0 <= args.warmup <= 10_000:
        parser.error("keep --deliveries within 1..100000, --warmup within 0..10000, --concurrency within 1..1000")
    if not 2 <= args.memory_deliveries <= 100_000 or not 1 <= args.replies <= 200:
        parser.error("keep --memory-deliveries within 2..100000 and --replies within 1..200")

    bare = run_phase("bare HMAC handler", "bare", {}, args.warmup, args.deliveries, args.concurrency)
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as scratch:
        hub = start_localhub(args.github_latency)
        try:
            options = {**hub.options, "state_dir": tempfile.mkdtemp(dir=scratch), "worker_concurrency": 8,
                       "drain_timeout": args.drain_timeout, "busy_handlers": True}
            busy = run_phase(f"service, handlers busy, GitHub {args.github_latency * 1000:.0f} ms late", "service",
                             options, args.warmup, args.deliveries, args.concurrency)
        finally:
            busy.report["github"] = hub.server.stop()
        seconds, calls = measure_reply_to_notice(args.notice_latency, args.replies)
        halfway, end = measure_memory(scratch, args.memory_deliveries, args.concurrency, args.drain_timeout)
    print_results(args, bare, busy, seconds, calls, halfway, end)
    return 0


def print_results(args: argparse.Namespace, bare: Result, busy: Result, seconds: list[float], calls: list[int],
                  halfway: float, end: float) -> None:
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    size = len(make_bodies(1, 1, "o/r")[0][0])
    print(f"\nPOST /webhook: {args.deliveries} signed deliveries of {size:,} bytes, {args.concurrency} in flight, "
          f"loopback, {os.cpu_count()} CPUs\n")
    for result in (bare, busy):
        print(f"  {result.name:48} p50 {result.percentile(50):7.1f} ms  p99 {result.percentile(99):7.1f} ms  "
              f"{result.throughput:6.0f} acks/s  statuses {result.statuses}")
    report = busy.report
    print(f"  worker backlog drained {report.get('drain_seconds', 0):.1f} s after the last ack "
          f"(bound {args.drain_timeout:.0f} s); inbox {report.get('inbox')}")

    ack_ratio = busy.percentile(99) / bare.percentile(99)
    notice_p50 = _percentile(seconds, 50)
    calls_p50 = _percentile([float(c) for c in calls], 50)
    notice_ratio = notice_p50 / ((calls_p50 + 1) * args.notice_latency)
    growth = end / halfway if halfway else float("inf")
    print("\nratios")
    print(f"  1. ack p99 with handlers busy and GitHub late / bare p99: {ack_ratio:.2f} "
          f"(target <= 2): {verdict(ack_ratio <= 2)}")
    print(f"  2. reply-to-notice p50 {notice_p50 * 1000:.0f} ms / ((API calls {calls_p50:.0f} + 1) x "
          f"{args.notice_latency * 1000:.0f} ms): {notice_ratio:.2f} (target <= 1): {verdict(notice_ratio <= 1)}")
    print(f"  3. RSS after {args.memory_deliveries:,} deliveries {end:.0f} MB (target < 150), "
          f"{end:.0f} / {halfway:.0f} MB after {args.memory_deliveries // 2:,}: {growth:.2f} "
          f"(target: not growing, <= 1.05): {verdict(end < 150 and growth <= 1.05)}")


if __name__ == "__main__":
    sys.exit(main())
