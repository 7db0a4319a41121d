"""The local GitHub server: an aiohttp app bound to loopback, plus the handle tests hold.

    async with LocalHub.start() as hub:        # port 0 = any free port
        hub.register_app(app_id, public_pem)
        ...                                    # hub.url is the API base URL
        hub.clock.advance(1)                   # what follows is stamped a second later

Every time the hub stamps or judges (created_at, token expiry, JWTs, rate-limit windows) comes
from `hub.clock`: real time by default, or the `Clock` its creator passes.

Every request passes one middleware: fault injection, authentication, the primary rate
limit, ETag/304, GitHub-shaped errors, and the request log.
"""
from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import ipaddress
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from localhub import graphql, routes_apps, routes_git, routes_issues, routes_pulls, routes_repos, routes_web
from localhub.access import CALLER_KEY, HUB_KEY
from localhub.actions import Actions
from localhub.auth import Caller, identify
from localhub.clock import Clock, RealClock
from localhub.errors import GitHubError
from localhub.faults import Fault, Faults
from localhub.limits import RateLimits
from localhub.observers import OBSERVERS, HttpExchange
from localhub.payloads import Payloads
from localhub.people import People
from localhub.responses import MAX_PER_PAGE, error_response
from localhub.state import HubState
from localhub.webhooks import Delivery, WebhookSender

T = TypeVar("T")
JWT_PATHS = re.compile(r"^/app(/|$)|^/repos/[^/]+/[^/]+/installation$")
UNCOUNTED = {"/rate_limit"}
# No credentials on GitHub either: the web pages a person's browser posts to, and the manifest
# code exchange (the one-time code is the credential).
ANONYMOUS_PATHS = re.compile(r"^/app-manifests/[^/]+/conversions$|^(/organizations/[^/]+)?/settings/apps/new$"
                             r"|^/apps/[^/]+/installations/new$")


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    status: int
    started_at: float  # epoch seconds
    duration: float  # seconds
    caller: str | None  # login of the caller, when authenticated


def refuse_public_host(host: str) -> None:
    """The local GitHub holds tokens and fake identities: never listen beyond loopback."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"localhub only listens on loopback, not {host!r}")


class LocalHub(People):
    """A running local GitHub: state, the person API (see `People`), faults, logs."""

    def __init__(self, token_ttl: float = 3600.0, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or RealClock()
        self.state = HubState(clock=self.clock)
        self.faults = Faults()
        self.limits = RateLimits(clock=self.clock)
        self.webhooks = WebhookSender(self.faults, clock=self.clock)
        self.payloads = Payloads(self.state, "http://127.0.0.1")
        self.actions = Actions(self.state, self.payloads, self.webhooks)
        self.requests: list[RequestRecord] = []
        self.token_ttl = token_ttl
        # GitHub's largest page; a test lowers it so that a few items take several pages
        self.max_per_page = MAX_PER_PAGE
        self.url = ""
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, host: str = "127.0.0.1", port: int = 0, token_ttl: float = 3600.0,
                    clock: Clock | None = None) -> AsyncIterator[LocalHub]:
        """Serve on `host:port` (loopback only) for the duration of the `async with`."""
        hub = cls(token_ttl, clock)
        await hub.serve(host, port)
        try:
            yield hub
        finally:
            await hub.close()

    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> None:
        refuse_public_host(host)
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]  # a started TCPSite has a listening server
        display_host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        self.url = f"http://{display_host}:{bound[1]}"
        self.payloads.api = self.url
        await self.webhooks.start()

    async def close(self) -> None:
        self.faults.clear()  # releases hung requests
        await self.webhooks.stop()
        if self._runner:
            await self._runner.cleanup()

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._pipeline])
        app[HUB_KEY] = self
        for module in (routes_apps, routes_repos, routes_git, routes_pulls, routes_issues, graphql, routes_web):
            app.add_routes(module.routes)
        return app

    # -- the pipeline every request goes through --------------------------------------------

    @web.middleware
    async def _pipeline(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        started, began = time.time(), time.monotonic()  # the request log keeps wall time
        status, caller = 500, None
        try:
            response = await self._answer(request, handler)
            status = response.status
            caller = request.get(CALLER_KEY)
            if OBSERVERS.http:
                await self._show_observers(request, response)
            return response
        finally:
            self.requests.append(RequestRecord(request.method, request.path, request.query_string, status,
                                               started, time.monotonic() - began,
                                               caller.login if caller else None))

    @staticmethod
    async def _show_observers(request: web.Request, response: web.StreamResponse) -> None:
        body = response.body if isinstance(response, web.Response) else None
        OBSERVERS.saw_http(HttpExchange(
            request.method, request.path, request.query_string, dict(request.headers),
            await request.read() if request.can_read_body or request.body_exists else b"",
            response.status, dict(response.headers), body if isinstance(body, bytes) else None))

    async def _answer(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        resource = "graphql" if request.path == "/graphql" else "core"
        if len(request.path) > 1 and request.path.endswith("/"):
            return self._early(request, resource, error_response(GitHubError(404, "Not Found")))
        fault = self.faults.match_http(request.method, request.path)
        if fault is not None:
            faulted = await self._apply_fault(fault)
            if faulted is not None:
                return self._early(request, resource, faulted)
        try:
            caller = self._caller(request)
        except GitHubError as error:
            return self._early(request, resource, error_response(error))
        request[CALLER_KEY] = caller
        bucket = self.limits.bucket(caller.bucket, resource)
        if bucket.remaining == 0 and request.path not in UNCOUNTED:
            response: web.StreamResponse = error_response(GitHubError(403, f"API rate limit exceeded for {caller.login}."))
            response.headers.update(self.limits.headers(caller.bucket, resource))
            return response
        try:
            response = await handler(request)
        except GitHubError as error:
            response = error_response(error)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            response = error_response(GitHubError(404, "Not Found"))
        response = self._conditional(request, response)
        if response.status != 304 and request.path not in UNCOUNTED:
            bucket.used += 1  # a 304 is free, as on GitHub
        response.headers.update(self.limits.headers(caller.bucket, resource))
        return response

    def _caller(self, request: web.Request) -> Caller:
        if ANONYMOUS_PATHS.match(request.path) and not request.headers.get("Authorization"):
            return Caller("anonymous", "")
        return identify(self.state, request.headers.get("Authorization"), bool(JWT_PATHS.match(request.path)))

    def _early(self, request: web.Request, resource: str, response: web.StreamResponse) -> web.StreamResponse:
        """An answer given before the request was let through (a fault, bad credentials) carries
        the rate-limit headers too, as every GitHub answer does: the caller's, if known."""
        try:
            bucket = self._caller(request).bucket
        except GitHubError:
            bucket = "anonymous:"
        response.headers.update(self.limits.headers(bucket, resource))
        return response

    async def _apply_fault(self, fault: Fault) -> web.StreamResponse | None:
        if fault.kind == "latency":
            await asyncio.sleep(fault.seconds)
            return None
        if fault.kind == "hang":
            released = self.faults.released
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(released.wait(), fault.seconds)
            return error_response(GitHubError(502, "Server Error"))
        if fault.kind == "secondary_rate_limit":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return error_response(GitHubError(
                fault.status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                "If you reach out to GitHub Support for help, please include the request ID.", headers=headers))
        return error_response(GitHubError(fault.status, fault.message or "Conflict"))

    @staticmethod
    def _conditional(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        """ETag on successful GETs; If-None-Match with the same tag gets an empty 304."""
        if request.method != "GET" or response.status != 200 or not isinstance(response, web.Response):
            return response
        etag = '"' + hashlib.sha256(response.body or b"").hexdigest() + '"'  # type: ignore[arg-type]  # a json Response's body is bytes
        wanted = request.headers.get("If-None-Match", "")
        if etag in [tag.strip().removeprefix("W/") for tag in wanted.split(",")]:
            return web.Response(status=304, headers={"ETag": etag})
        response.headers["ETag"] = etag
        return response

    # -- what tests read --------------------------------------------------------------------

    def count_requests(self, method: str | None = None, path: str = "*", status: int | None = None) -> int:
        """How many logged requests match (path is an fnmatch glob)."""
        return sum(1 for r in self.requests
                   if (method is None or r.method == method.upper()) and fnmatch.fnmatchcase(r.path, path)
                   and (status is None or r.status == status))

    @property
    def deliveries(self) -> list[Delivery]:
        return self.webhooks.deliveries

    async def deliveries_settled(self, timeout: float = 10.0) -> list[Delivery]:
        """Wait until every queued webhook was answered (or dropped); returns all deliveries."""
        return await self.webhooks.settled(timeout)

    def set_rate_limit(self, limit: int, used: int = 0) -> None:
        self.limits.set_limit(limit, used)


class ThreadedHub:
    """A LocalHub running on its own event loop in a background thread, for sync clients
    (PyGithub batch jobs). Use `call(fn, *args)` to run person-API methods on the hub's loop."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.hub = LocalHub(clock=clock)
        self._thread = threading.Thread(target=self.loop.run_forever, name="localhub", daemon=True)

    @classmethod
    @contextlib.contextmanager
    def start(cls, host: str = "127.0.0.1", port: int = 0, clock: Clock | None = None) -> Iterator[ThreadedHub]:
        runner = cls(clock)
        runner._thread.start()
        runner.run(runner.hub.serve(host, port))
        try:
            yield runner
        finally:
            runner.run(runner.hub.close())
            runner.loop.call_soon_threadsafe(runner.loop.stop)
            runner._thread.join(timeout=5)
            runner.loop.close()

    @property
    def url(self) -> str:
        return self.hub.url

    def run(self, coroutine: Awaitable[T], timeout: float = 30.0) -> T:
        """Run a coroutine on the hub's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]  # callers pass coroutines

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a (sync) hub method on the hub's loop thread and return its result."""
        async def invoke() -> T:
            return fn(*args, **kwargs)
        return self.run(invoke())

    def deliveries_settled(self, timeout: float = 10.0) -> list[Delivery]:
        return self.run(self.hub.deliveries_settled(timeout), timeout + 1)
