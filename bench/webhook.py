"""Benchmark: ack latency and throughput of POST /webhook, against a bare HMAC-only handler.

    .venv/bin/python bench/webhook.py [--deliveries 3000] [--concurrency 200] [--github-latency 0.3]

One run, three servers, each in its own process on loopback, driven by the same load generator
(this process; `--concurrency` signed deliveries always in flight, closed loop):

  bare      an aiohttp handler that reads the body, checks the HMAC and answers 202 — the floor;
  service   the real app (create_app: verify, journal with fsync, 202, worker drains) while the
            local GitHub answers normally;
  slow-gh   the same while the local GitHub answers every call `--github-latency` seconds late.

Every delivery is a real `pull_request_review_comment` payload spread over 50 PRs; the service
handles it with a bench handler that makes one GitHub call (GET the repository) through the real
installation client, so the worker really waits on the slow GitHub while acks are measured.
Prints p50/p99 ack latency, throughput, the ratios to the bare handler, and the targets
(throughput ≥ 0.8 × bare; p99 < 20 ms).
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
import statistics
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
THROUGHPUT_TARGET = 0.8
P99_TARGET_MS = 20.0


# ---- servers (each runs in a child process) ----------------------------------------------


def _serve(kind: str, conn: Connection, options: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING)
    if options.get("profile"):  # --profile: where the server's event loop spends its time
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(asyncio.run, _serve_async(kind, conn, options))
        profiler.dump_stats(options["profile"])
        return
    asyncio.run(_serve_async(kind, conn, options))


async def _serve_async(kind: str, conn: Connection, options: dict[str, Any]) -> None:
    from aiohttp import web

    app, report = _build_server(kind, options)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await _prepare(kind, app, options)
    conn.send(port)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)  # the parent says "stop"
    conn.send(await report(app))
    await runner.cleanup()


def _build_server(kind: str, options: dict[str, Any]) -> tuple[Any, Any]:
    from aiohttp import web

    if kind == "bare":
        secret = SECRET.encode()

        async def bare(request: web.Request) -> web.Response:
            body = await request.read()
            expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), expected):
                return web.Response(status=401)
            return web.Response(status=202, text="accepted")

        app = web.Application(client_max_size=25 * 1024 * 1024)
        app.router.add_post("/webhook", bare)

        async def nothing(_: web.Application) -> dict[str, Any]:
            return {}

        return app, nothing

    if kind == "localhub":
        return _build_localhub(options)

    return _build_service(options)


def _build_service(options: dict[str, Any]) -> tuple[Any, Any]:
    from gidgethub.routing import Router
    from gidgethub.sansio import Event

    from bot.service import app as service_app
    from bot.service.config import ServiceConfig
    from bot.service.context import Context
    from bot.service.handlers import ping
    from bot.service.routing import compose

    # Production logs one line per delivery; keep that cost, send it to a file.
    handler = logging.FileHandler(Path(options["state_dir"]) / "service.log")
    logging.getLogger("bot").addHandler(handler)
    logging.getLogger("bot").setLevel(logging.INFO)
    logging.getLogger("bot").propagate = False

    bench_router = Router()

    @bench_router.register("pull_request_review_comment", action="created")
    async def read_repository(event: Event, ctx: Context) -> None:
        if ctx.gh is not None and options.get("repo"):
            await ctx.gh.getitem(f"/repos/{options['repo']}")

    config = ServiceConfig(
        app_id=str(options["app_id"]), private_key=options["private_key"], webhook_secret=SECRET,
        api_url=options["api_url"], state_dir=Path(options["state_dir"]),
        worker_concurrency=options["worker_concurrency"],
        journal_synchronous=options.get("journal_synchronous", "FULL"),
    )
    app = service_app.create_app(config, router=compose(ping.router, bench_router))

    async def report(app: Any) -> dict[str, Any]:
        worker = app[service_app.WORKER]
        started = time.perf_counter()
        await asyncio.wait_for(worker.join(), timeout=options["drain_timeout"])
        return {
            "drain_seconds": time.perf_counter() - started,
            "journal": await app[service_app.JOURNAL].counts(),
            "outcomes": dict(worker.outcomes),
            "rate_limit_remaining": app[service_app.GITHUB].rate_limit_remaining(options["installation_id"]),
        }

    return app, report


def _build_localhub(options: dict[str, Any]) -> tuple[Any, Any]:
    from bench_localhub import build_localhub  # type: ignore[import-not-found]

    return build_localhub(options)


async def _prepare(kind: str, app: Any, options: dict[str, Any]) -> None:
    if kind == "localhub" and options.get("latency"):
        from bench_localhub import add_latency  # type: ignore[import-not-found]

        add_latency(app, options["latency"])


@dataclass
class Server:
    process: multiprocessing.Process
    conn: Connection
    port: int

    def stop(self) -> dict[str, Any]:
        self.conn.send("stop")
        report = self.conn.recv() if self.conn.poll(180) else {"error": "no report"}
        self.process.join(30)
        if self.process.is_alive():
            self.process.terminate()
        return report


def start_server(kind: str, options: dict[str, Any]) -> Server:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(kind, child, options), daemon=True)
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
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def make_bodies(count: int, installation_id: int, repo: str | None) -> list[tuple[bytes, dict[str, str]]]:
    template = json.loads(PAYLOAD.read_text())
    prepared = []
    for index in range(count):
        data = json.loads(json.dumps(template))
        data["installation"]["id"] = installation_id
        data["pull_request"]["number"] = 1 + index % 50
        data["comment"]["id"] = 10_000_000 + index
        if repo:
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
    head = [f"POST /webhook HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
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
        bodies = make_bodies(warmup + deliveries, options.get("installation_id", 1), options.get("repo"))
        asyncio.run(drive(server.port, bodies[:warmup], concurrency))
        latencies, seconds, statuses = asyncio.run(drive(server.port, bodies[warmup:], concurrency))
    finally:
        report = server.stop()
    return Result(name, latencies, seconds, statuses, report)


# ---- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=3000, help="measured deliveries per phase")
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--github-latency", type=float, default=0.3, help="seconds the slow GitHub adds to every call")
    parser.add_argument("--worker-concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    if not 1 <= args.deliveries <= 100_000 or not 1 <= args.concurrency <= 1000:
        parser.error("keep --deliveries within 1..100000 and --concurrency within 1..1000")

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    results: list[Result] = []
    results.append(run_phase("bare HMAC handler", "bare", {}, args.warmup, args.deliveries, args.concurrency))

    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as scratch:
        for name, latency in (("service, GitHub on time", 0.0), (f"service, GitHub {args.github_latency * 1000:.0f} ms late", args.github_latency)):
            hub = start_localhub(latency)
            try:
                options = {
                    **hub.options, "state_dir": tempfile.mkdtemp(dir=scratch),
                    "worker_concurrency": args.worker_concurrency, "drain_timeout": 600,
                }
                results.append(run_phase(name, "service", options, args.warmup, args.deliveries, args.concurrency))
            finally:
                hub.server.stop()

    print_results(results, args)
    return 0


@dataclass
class Hub:
    server: Server
    options: dict[str, Any]


def start_localhub(latency: float) -> Hub:
    from bench_localhub import hub_options  # type: ignore[import-not-found]

    options = hub_options(latency)
    server = start_server("localhub", options)
    return Hub(server, {**options, "api_url": f"http://127.0.0.1:{server.port}"})


def print_results(results: list[Result], args: argparse.Namespace) -> None:
    bare = results[0]
    print(f"\nPOST /webhook, {args.deliveries} signed deliveries ({len(make_bodies(1, 1, None)[0][0]):,} bytes each), "
          f"{args.concurrency} in flight, loopback, {os.cpu_count()} CPUs\n")
    header = f"{'':34} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9} {'×bare':>7}  statuses"
    print(header)
    print("-" * len(header))
    for result in results:
        ratio = result.throughput / bare.throughput
        print(f"{result.name:34} {result.percentile(50):8.2f} {result.percentile(99):8.2f} "
              f"{result.throughput:9.0f} {ratio:7.2f}  {result.statuses}")
    print()
    for result in results[1:]:
        ratio = result.throughput / bare.throughput
        p99 = result.percentile(99)
        print(f"{result.name}: throughput {ratio:.2f} × bare (target ≥ {THROUGHPUT_TARGET}) "
              f"{'OK' if ratio >= THROUGHPUT_TARGET else 'MISSED'}; p99 {p99:.1f} ms (target < {P99_TARGET_MS:.0f}) "
              f"{'OK' if p99 < P99_TARGET_MS else 'MISSED'}; p99 ratio {p99 / bare.percentile(99):.2f} × bare")
        report = result.report
        if report:
            print(f"    worker drained the backlog {report.get('drain_seconds', 0):.1f} s after the last ack; "
                  f"journal {report.get('journal')}; rate limit remaining {report.get('rate_limit_remaining')}")


if __name__ == "__main__":
    sys.exit(main())
