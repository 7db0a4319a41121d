"""`ping`: GitHub sends it when the App's webhook is created; logging it proves the pipeline works."""
from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.runtime.handler_context import Context

router = Router()


@router.register("ping")
async def log_zen(event: Event, ctx: Context) -> None:
    ctx.log.info("ping: hook %s says %r", event.data.get("hook_id"), event.data.get("zen"))
