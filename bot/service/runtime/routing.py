"""The one place where the handler modules' gidgethub Routers are composed.

Each module imported below lives in bot/service/handlers/ and exposes `router`, a
`gidgethub.routing.Router` whose callbacks are `async def handler(event, ctx: Context) -> None`.
The intake asks the composed router whether any callback matches a delivery, so one nobody
handles is answered 202 without being recorded.
"""
from __future__ import annotations

from dataclasses import dataclass

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.handlers import comments, issues, ping, pull_request, push

# Explicit on purpose: adding a handler module is a reviewed one-line change here, and a reader
# (or an IDE) can follow each router to its module.
HANDLER_ROUTERS: tuple[Router, ...] = (ping.router, pull_request.router, comments.router, issues.router, push.router)


@dataclass(frozen=True)
class ComposedRouter:
    router: Router

    def handles(self, event: Event) -> bool:
        """Whether any callback matches this event *and* its data (e.g. the `action`)."""
        return bool(self.router.fetch(event))


def compose(*routers: Router) -> ComposedRouter:
    return ComposedRouter(router=Router(*routers))


def build_router(routers: tuple[Router, ...] = HANDLER_ROUTERS) -> ComposedRouter:
    return compose(*routers)
