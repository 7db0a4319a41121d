"""The one place where the handler modules' gidgethub Routers are composed.

Each module listed in HANDLER_MODULES lives in bot/service/handlers/ and exposes `router`, a
`gidgethub.routing.Router` whose callbacks are `async def handler(event, ctx: Context) -> None`.
The intake asks the composed router whether any callback matches a delivery, so one nobody
handles is answered 202 without being recorded.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from gidgethub.routing import Router
from gidgethub.sansio import Event

# Explicit on purpose: adding a handler module is a reviewed one-line change here.
HANDLER_MODULES: tuple[str, ...] = ("ping", "pull_request", "comments", "issues", "push")


@dataclass(frozen=True)
class ComposedRouter:
    router: Router

    def handles(self, event: Event) -> bool:
        """Whether any callback matches this event *and* its data (e.g. the `action`)."""
        return bool(self.router.fetch(event))


def compose(*routers: Router) -> ComposedRouter:
    return ComposedRouter(router=Router(*routers))


def build_router(modules: tuple[str, ...] = HANDLER_MODULES) -> ComposedRouter:
    routers = [importlib.import_module(f"bot.service.handlers.{name}").router for name in modules]
    return compose(*routers)
