"""Benchmark: CPU per journalled delivery, the journal alone (no HTTP, no HMAC, no worker).

    .venv/bin/python bench/journal.py [--records 6000] [--concurrency 200] [--body-bytes 26800]
                                      [--prefill 0] [--ids uuid|sequential] [--warmup N]
                                      [--synchronous FULL] [--runs 3]

`--concurrency` coroutines at a time each `await journal.record(...)` one delivery with a random
hex body (about 27 KB, like a pull_request_review_comment payload) into a fresh journal in a
temporary directory, then the journal is closed (so its last commit and checkpoint count).
Prints records/s and the process's CPU per record, user and system (getrusage: the committer and
checkpoint threads count too).

Delivery ids are random UUIDs by default, as GitHub's are (`--ids sequential`: "d0", "d1", ...,
which keeps the primary-key index inserts clustered and flatters the journal). `--prefill N`
first puts N finished deliveries (empty bodies, straight through SQLite) into the journal, to
measure one that has been running a while: random ids then land all over a large index.

Before the measured runs, one unreported warm-up run of `--warmup` records (default: as many as
`--records`): on this VM the first time a process's writes need fresh memory for the page
cache costs several times the kernel CPU of later writes, whatever is being written.
Bounded: a fixed number of records; every directory is removed after its run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.service.journal import Journal, NewDelivery  # noqa: E402


@dataclass(frozen=True)
class Options:
    records: int
    concurrency: int
    body_bytes: int
    prefill: int
    ids: str
    synchronous: str


@dataclass(frozen=True)
class Result:
    records_per_second: float
    user_us: float
    sys_us: float


def _id_maker(kind: str) -> Callable[[int], str]:
    return (lambda i: f"d{i}") if kind == "sequential" else (lambda i: str(uuid.uuid4()))


async def _prefill(path: Path, count: int) -> None:
    """N finished deliveries, inserted directly (their bodies do not matter, their ids do)."""
    journal = await Journal.open(path)  # creates the schema, as the service would
    await journal.close()
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO deliveries (delivery_id, event, lane, body, received_at, state) VALUES (?, 'e', 'l', x'', 0, 'done')",
            ((str(uuid.uuid4()),) for _ in range(count)),
        )
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def _record_all(path: Path, options: Options, body: bytes) -> None:
    journal = await Journal.open(path, options.synchronous)
    slots = asyncio.Semaphore(options.concurrency)
    make_id = _id_maker(options.ids)

    async def one(i: int) -> None:
        async with slots:
            delivery = NewDelivery(make_id(i), "pull_request_review_comment", "created", 1, "o/r", f"o/r#{i % 50}", body, time.time())
            await journal.record(delivery)

    try:
        await asyncio.gather(*(one(i) for i in range(options.records)))
    finally:
        await journal.close()


def run_once(options: Options) -> Result:
    body = os.urandom(options.body_bytes // 2).hex().encode()
    directory = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    path = directory / "journal.sqlite3"
    try:
        if options.prefill:
            asyncio.run(_prefill(path, options.prefill))
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        asyncio.run(_record_all(path, options, body))
        elapsed, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return Result(
        records_per_second=options.records / elapsed,
        user_us=(after.ru_utime - before.ru_utime) / options.records * 1e6,
        sys_us=(after.ru_stime - before.ru_stime) / options.records * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--body-bytes", type=int, default=26800)
    parser.add_argument("--prefill", type=int, default=0, help="finished deliveries already in the journal")
    parser.add_argument("--ids", choices=("uuid", "sequential"), default="uuid")
    parser.add_argument("--warmup", type=int, default=None, help="records in the unreported first run")
    parser.add_argument("--synchronous", default="FULL")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    options = Options(args.records, args.concurrency, args.body_bytes, args.prefill, args.ids, args.synchronous)
    warmup = args.records if args.warmup is None else args.warmup
    if warmup:
        run_once(Options(warmup, args.concurrency, args.body_bytes, 0, args.ids, args.synchronous))
    print(f"{args.records} records of {args.body_bytes} bytes, {args.concurrency} in flight, {args.ids} ids,"
          f" {args.prefill} already journalled, synchronous={args.synchronous}")
    for _ in range(args.runs):
        result = run_once(options)
        print(
            f"{result.records_per_second:8.0f} records/s   CPU per record {result.user_us + result.sys_us:6.1f} µs"
            f" (user {result.user_us:5.1f}, sys {result.sys_us:5.1f})"
        )


if __name__ == "__main__":
    main()
