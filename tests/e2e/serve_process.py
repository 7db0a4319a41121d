"""`python -m bot serve` as a person runs it: a subprocess in a folder, its environment only
what the test gives it (no GITHUB_* or BOT_* from the test run), /health polled over HTTP."""
from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import ClientSession


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any GitHub or bot setting: only .env may supply them."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("GITHUB_", "BOT_", "PORT"))}
    return {**env, **extra}


@asynccontextmanager
async def serving(folder: Path, port: int, **env: str) -> AsyncIterator[asyncio.subprocess.Process]:
    serve = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), cwd=folder,
        env=clean_environment(BOT_STATE_DIR=str(folder / "state"), BOT_SCHEDULER="off", **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        yield serve
    finally:
        if serve.returncode is None:
            serve.terminate()
            await asyncio.wait_for(serve.wait(), 30)


async def health(port: int, wanted: Callable[[dict], bool], timeout: float = 60.0) -> dict:
    """Poll /health until `wanted(body)` holds; the last body."""
    deadline = asyncio.get_running_loop().time() + timeout
    body: dict = {}
    async with ClientSession() as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                async with client.get(f"http://127.0.0.1:{port}/health") as response:
                    body = await response.json()
                    if wanted(body):
                        return body
            except OSError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"/health never became what the test waits for; last: {body}")




async def line_starting(serve: asyncio.subprocess.Process, prefix: str, timeout: float = 30.0) -> str:
    """The first line of serve's output (stdout and stderr together) that starts with `prefix`."""
    async def read() -> str:
        assert serve.stdout is not None
        while line := (await serve.stdout.readline()).decode():
            if line.startswith(prefix):
                return line
        raise AssertionError(f"serve ended without a line starting {prefix!r}")

    return await asyncio.wait_for(read(), timeout)
