"""Ports for the servers tests start by number, distinct across pytest-xdist workers.

A port found by binding to port 0 and closing is free only for a moment: another worker's server
may take it before ours binds (seen: a delivery signed for one test's `serve` answered 401 by
another's). These ports come from below the kernel's ephemeral range, which binding to port 0
and outgoing connections never use, and each worker has a block of its own.
"""
from __future__ import annotations

import itertools
import os
import socket

FIRST_PORT = 20_000  # Linux hands out 32768-60999 by default; this stays clear of it
PORTS_PER_WORKER = 1_000


def _worker_index() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... or unset without xdist
    return int(name[2:]) if name[2:].isdigit() else 0


_BLOCK_START = FIRST_PORT + _worker_index() * PORTS_PER_WORKER
_next_offset = itertools.count()


def free_port() -> int:
    """A port of this worker's block that nothing listens on now."""
    for _ in range(PORTS_PER_WORKER):
        port = _BLOCK_START + next(_next_offset) % PORTS_PER_WORKER
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # held by something outside the suite, or still closing: the next one
            return port
    raise RuntimeError(f"no free port in {_BLOCK_START}-{_BLOCK_START + PORTS_PER_WORKER - 1}")
