"""Benchmark: ack latency and throughput of POST /webhook, next to a bare HMAC-only handler.

    .venv/bin/python bench/webhook.py [--deliveries 3000] [--concurrency 200] [--github-latency 0.3]

One run, four phases, each server in its own process on loopback, all driven by the same load
generator (this process; `--concurrency` signed deliveries always in flight, closed loop):

  bare             an aiohttp handler that reads the body, checks the HMAC and answers 202;
  service          the real app (create_app: verify, parse, insert into the SQLite inbox, 202; the
                   worker drains it in the background, on the same loop) with the local GitHub
                   answering normally;
  service, slow    the same while the local GitHub answers every call `--github-latency` s late;
  handlers busy    the same as the first, and each delivery's handler also parses a threat model
                   (a few ms of CPU, as an import costs): do busy handlers hold up the acks?

Every delivery is a real `pull_request_review_comment` payload (about 27 KB), spread over 50 PRs;
the service handles it with a bench handler that makes one GitHub call through the real
installation client (token cache, ETag cache, retries), so with the slow GitHub the worker really
is waiting on it while acks are measured. Two latencies are printed: as the client sees it
(includes queueing for the CPU) and inside the server's handler. Then the ratios and targets
(throughput >= 0.8 x bare; p99 ack < 20 ms). Bounded: a fixed number of deliveries, loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
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
THROUGHPUT_TARGET = 0.8
P99_TARGET_MS = 20.0


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
    while await loop.run_in_executor(None, conn.recv) != "stop":
        handler_ms.clear()  # "reset": the warm-up is over
        gc_pauses_ms.clear()
        cpu_started, own_cpu_started = _cpu_seconds(children=True), _cpu_seconds()
        conn.send("ok")
    # The measured run (the drain, below, is not in it); "web": the process that acks, without its worker process.
    cpu_seconds, web_cpu_seconds = _cpu_seconds(children=True) - cpu_started, _cpu_seconds() - own_cpu_started
    conn.send({**(await report(app)), "handler_ms": handler_ms, "cpu_seconds": cpu_seconds, "web_cpu_seconds": web_cpu_seconds,
               "gc_max_ms": round(max(gc_pauses_ms, default=0.0), 1), "gc_collections": len(gc_pauses_ms)})
    await runner.cleanup()


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
    from bot.service.context import Context
    from bot.service.handlers import ping
    from bot.service.routing import compose

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
    from bot.service import app as service_app
    from bot.service.config import ServiceConfig

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
        try:  # with a slow GitHub the backlog can outlast the bound: report what is left
            await asyncio.wait_for(worker.join(), timeout=options["drain_timeout"])
        except asyncio.TimeoutError:
            pass
        return {
            "drain_seconds": time.perf_counter() - started,
            "inbox": await app[service_app.INBOX].counts(),
        }

    return app, report


async def _serve_localhub(conn: Connection, options: dict[str, Any]) -> None:
    """The local GitHub with the App installed on one repository; every call `latency` s late."""
    from bot.localhub.server import LocalHub

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
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


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



# ---- main ----------------------------------------------------------------------------------


@dataclass
class Hub:
    server: Server
    options: dict[str, Any]


def start_localhub(latency: float) -> Hub:
    options = hub_options(latency)
    server = start_server("localhub", options)
    return Hub(server, {**options, "api_url": f"http://127.0.0.1:{server.port}"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=3000, help="measured deliveries per phase")
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--github-latency", type=float, default=0.3, help="seconds the slow GitHub adds to every call")
    parser.add_argument("--worker-concurrency", type=int, default=8)
    parser.add_argument("--drain-timeout", type=float, default=60.0, help="how long to wait for the worker's backlog")
    args = parser.parse_args(argv)
    if not 1 <= args.deliveries <= 100_000 or not 1 <= args.concurrency <= 1000 or not 0 <= args.warmup <= 10_000:
        parser.error("keep --deliveries within 1..100000, --warmup within 0..10000, --concurrency within 1..1000")

    results = [run_phase("bare HMAC handler", "bare", {}, args.warmup, args.deliveries, args.concurrency)]
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as scratch:
        phases = (("service, GitHub on time", 0.0, False),
                  (f"service, GitHub {args.github_latency * 1000:.0f} ms late", args.github_latency, False),
                  ("service, handlers busy", 0.0, True))
        for name, latency, busy_handlers in phases:
            hub = start_localhub(latency)
            try:
                options = {**hub.options, "state_dir": tempfile.mkdtemp(dir=scratch),
                           "worker_concurrency": args.worker_concurrency, "drain_timeout": args.drain_timeout,
                           "busy_handlers": busy_handlers}
                results.append(run_phase(name, "service", options, args.warmup, args.deliveries, args.concurrency))
            finally:
                results[-1].report["github"] = hub.server.stop()
    print_results(results, args)
    return 0


def print_results(results: list[Result], args: argparse.Namespace) -> None:
    bare = results[0]
    size = len(make_bodies(1, 1, "o/r")[0][0])
    print(f"\nPOST /webhook: {args.deliveries} signed deliveries of {size:,} bytes, {args.concurrency} in flight, "
          f"loopback, {os.cpu_count()} CPUs\n")
    header = (f"{'':32} {'client p50':>10} {'client p99':>10} {'server p50':>10} {'server p99':>10} "
              f"{'acks/s':>8} {'x bare':>7}")
    print(header + "\n" + "-" * len(header))
    for result in results:
        print(f"{result.name:32} {result.percentile(50):8.1f}ms {result.percentile(99):8.1f}ms "
              f"{result.handler_percentile(50):8.2f}ms {result.handler_percentile(99):8.2f}ms "
              f"{result.throughput:8.0f} {result.throughput / bare.throughput:7.2f}")
    print("\nclient = as the load generator sees it (includes waiting for the CPU); "
          "server = inside the aiohttp handler")
    print("\nCPU per delivery (all threads, µs): server / load generator; machine busy = both over wall time x CPUs")
    for result in results:
        served = len(result.latencies_ms)
        server_cpu, client_cpu = result.report.get("cpu_seconds", 0.0), result.report.get("client_cpu_seconds", 0.0)
        busy = (server_cpu + client_cpu) / (result.seconds * (os.cpu_count() or 1))
        print(f"  {result.name:32} {server_cpu / served * 1e6:7.0f} / {client_cpu / served * 1e6:5.0f}   busy {busy:4.0%}")
    for result in results[1:]:
        ratio = result.throughput / bare.throughput
        p99 = result.percentile(99)
        verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
        print(f"\n{result.name}:")
        print(f"  throughput {ratio:.2f} x bare (target >= {THROUGHPUT_TARGET}): {verdict(ratio >= THROUGHPUT_TARGET)}")
        print(f"  p99 ack {p99:.1f} ms as the client sees it (target < {P99_TARGET_MS:.0f} ms): {verdict(p99 < P99_TARGET_MS)};"
              f" {p99 / bare.percentile(99):.2f} x bare's p99; inside the handler {result.handler_percentile(99):.2f} ms")
        report = result.report
        print(f"  worker: backlog drained {report.get('drain_seconds', 0):.1f} s after the last ack "
              f"(bound {args.drain_timeout:.0f} s); inbox {report.get('inbox')}; local GitHub {report.get('github')}")
        print(f"  garbage collections during the measured run: {report.get('gc_collections')}, "
              f"longest {report.get('gc_max_ms')} ms")
        statuses = result.statuses
        if set(statuses) != {202}:
            print(f"  statuses {statuses}")


if __name__ == "__main__":
    sys.exit(main())
