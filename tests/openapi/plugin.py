"""The pytest side of the OpenAPI check, loaded for the whole suite by tests/conftest.py.

Around each test, a recorder listens to every local GitHub in the process (its requests and
answers, and the webhooks it produces); when the test ends, each recorded exchange is held to
GitHub's description, and a disagreement fails the test at teardown, one line each:

    GET /repos/{owner}/{repo}/collaborators/{username}/permission -> 200: response $.user: ...

The description is loaded once per session, on the first test that recorded anything.
A test that sends the local GitHub what GitHub itself would refuse, on purpose, is marked
`openapi_bad_requests`: its requests are not held, the answers still are. Without `../shared`
the check is off, except with `CI` set, where tests/openapi/test_openapi_check.py fails.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import pytest

from corpus import SHARED
from localhub.observers import OBSERVERS, HttpExchange, WebhookEmitted

if TYPE_CHECKING:  # the validators take seconds to import: only a test that met a hub pays for them
    from openapi.checks import Disagreement
    from openapi.description import Description

REFERENCE = SHARED / "reference" / "openapi"
REST_FILE = "api.github.com.json.gz"
WEBHOOKS_FILE = "webhooks.api.github.com.json.gz"
MARKER = "openapi_bad_requests"
SHOWN = 40  # disagreements listed in one failure; the rest are counted


def reference_present() -> bool:
    return (REFERENCE / REST_FILE).is_file() and (REFERENCE / WEBHOOKS_FILE).is_file()


def load_description() -> Description:
    from openapi.description import Description
    return Description.load(REFERENCE / REST_FILE, REFERENCE / WEBHOOKS_FILE)


@dataclass
class Recorder:
    """What the local GitHubs did during one test (a hub in its own thread appends here too)."""

    http: list[HttpExchange] = field(default_factory=list)
    webhooks: list[WebhookEmitted] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def saw_http(self, exchange: HttpExchange) -> None:
        with self._lock:
            self.http.append(exchange)

    def saw_webhook(self, emitted: WebhookEmitted) -> None:
        with self._lock:
            self.webhooks.append(emitted)

    def __enter__(self) -> Recorder:
        OBSERVERS.http.append(self.saw_http)
        OBSERVERS.webhooks.append(self.saw_webhook)
        return self

    def __exit__(self, *_: object) -> None:
        OBSERVERS.http.remove(self.saw_http)
        OBSERVERS.webhooks.remove(self.saw_webhook)


@dataclass
class Tally:
    """The session's totals, for the closing summary line."""

    requests: int = 0
    webhooks: int = 0
    operations: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    disagreements: int = 0
    seconds: float = 0.0  # spent loading the description and checking

    @cached_property
    def description(self) -> Description:
        return load_description()

    def check(self, recorder: Recorder, requests: bool) -> list[Disagreement]:
        if not recorder.http and not recorder.webhooks:
            return []
        started = time.perf_counter()
        from openapi.checks import check_all
        found = check_all(self.description, recorder.http, recorder.webhooks, requests)
        self.requests += len(recorder.http)
        self.webhooks += len(recorder.webhooks)
        for exchange in recorder.http:
            template = self.description.template_of(exchange.method, exchange.path)
            self.operations.add(f"{exchange.method} {template or exchange.path}")
        self.events.update(emitted.event for emitted in recorder.webhooks)
        self.disagreements += len(found)
        self.seconds += time.perf_counter() - started
        return found


TALLY = Tally()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: the test sends the local GitHub what GitHub would refuse, "
                                       "on purpose; its requests are not held to the OpenAPI description")


@pytest.fixture(autouse=True)
def openapi_exchanges(request: pytest.FixtureRequest) -> Iterator[Recorder | None]:
    """Records the test's exchanges and fails it at teardown listing each disagreement."""
    if not reference_present():
        yield None
        return
    with Recorder() as recorder:
        yield recorder
    found = TALLY.check(recorder, requests=request.node.get_closest_marker(MARKER) is None)
    if found:
        counts = Counter(str(disagreement) for disagreement in found)
        lines = [f"  {text}" + (f"  (x{count})" if count > 1 else "") for text, count in counts.most_common(SHOWN)]
        if len(counts) > SHOWN:
            lines.append(f"  ... and {len(counts) - SHOWN} more kinds")
        pytest.fail("the local GitHub disagrees with GitHub's OpenAPI description:\n" + "\n".join(lines),
                    pytrace=False)


def shapes_validated() -> int:
    from openapi.checks import validated_shapes
    return validated_shapes()


# Under pytest-xdist the checks run in the workers: each sends its totals back when it ends
# (xdist's `workeroutput`), and the controller adds them up for the summary line.
SHAPES_SEEN: list[int] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["openapi_tally"] = {
            "requests": TALLY.requests, "webhooks": TALLY.webhooks, "operations": sorted(TALLY.operations),
            "events": sorted(TALLY.events), "disagreements": TALLY.disagreements, "seconds": TALLY.seconds,
            "shapes": shapes_validated() if TALLY.requests or TALLY.webhooks else 0}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    worker = getattr(node, "workeroutput", {}).get("openapi_tally")
    if worker:
        TALLY.requests += worker["requests"]
        TALLY.webhooks += worker["webhooks"]
        TALLY.operations.update(worker["operations"])
        TALLY.events.update(worker["events"])
        TALLY.disagreements += worker["disagreements"]
        TALLY.seconds += worker["seconds"]
        SHAPES_SEEN.append(worker["shapes"])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.requests or TALLY.webhooks:
        shapes = f"{max(SHAPES_SEEN)} shapes validated in the busiest worker" if SHAPES_SEEN else (
            f"{shapes_validated()} shapes validated")
        terminalreporter.write_line(
            f"OpenAPI check: {TALLY.requests} requests over {len(TALLY.operations)} operations and "
            f"{TALLY.webhooks} webhooks over {len(TALLY.events)} events ({shapes}), "
            f"in {TALLY.seconds:.1f} s of checking; "
            f"{TALLY.disagreements} disagreements")
