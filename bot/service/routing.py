"""The one place where the handler modules' gidgethub Routers are composed.

Each module listed in HANDLER_MODULES lives in bot/service/handlers/ and exposes `router`, a
`gidgethub.routing.Router` whose callbacks are `async def handler(event, ctx: Context) -> None`.
The intake asks the composed router which events (and actions) it handles, so a delivery nobody
handles is answered 202 without being journalled.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.envelope import SUMMARY_KEYS

# Explicit on purpose: adding a handler module is a reviewed one-line change here.
HANDLER_MODULES: tuple[str, ...] = ("ping", "pull_request", "comments", "issues", "push")


@dataclass(frozen=True)
class ComposedRouter:
    router: Router
    events: frozenset[str]  # event names with at least one callback, for the cheap header check

    def handles(self, event: Event) -> bool:
        """Whether any callback matches this event *and* its data (e.g. the `action`)."""
        return bool(self.router.fetch(event))


def handled_events(router: Router) -> frozenset[str]:
    # gidgethub offers no public listing; these two dicts (event -> callbacks) have been its
    # representation since 2.x, and Router(*others) itself relies on them.
    return frozenset(router._shallow_routes) | frozenset(router._deep_routes)


def compose(*routers: Router) -> ComposedRouter:
    router = Router(*routers)
    _check_routed_keys(router)
    return ComposedRouter(router=router, events=handled_events(router))


def _check_routed_keys(router: Router) -> None:
    """The intake routes on a summary of the body (envelope.summarise), not the whole of it: a
    callback registered on any other data key would never match there, so refuse it at startup."""
    for event, routes in router._deep_routes.items():
        unknown = set(routes) - SUMMARY_KEYS
        if unknown:
            raise ValueError(f"handlers for {event!r} route on {sorted(unknown)}; the intake only sees {sorted(SUMMARY_KEYS)}")


def build_router(modules: tuple[str, ...] = HANDLER_MODULES) -> ComposedRouter:
    routers = [importlib.import_module(f"bot.service.handlers.{name}").router for name in modules]
    return compose(*routers)
