"""`pull_request`: start following a PR that changes the threat model, and re-import on push."""
from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.context import Context
from bot.service.replies import settings_or_report
from bot.service.tracking import track

router = Router()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="ready_for_review")
@router.register("pull_request", action="labeled")
async def import_questions(event: Event, ctx: Context) -> None:
    pr = event.data["pull_request"]
    settings = await settings_or_report(ctx, int(pr["number"]))
    if settings is None:
        return
    pull = await track(ctx, pr, settings)
    if pull is None:
        ctx.log.info("PR #%s: not tracked (no threat-model document, or excluded by the settings)", pr["number"])
