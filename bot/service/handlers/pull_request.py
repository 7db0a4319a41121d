"""`pull_request`: start following a PR that changes the threat model, and re-import on push."""
from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.features.replies import settings_or_report
from bot.service.features.tracked_pulls import load_pull, track
from bot.service.runtime.handler_context import Context
from bot.service.runtime.pull_locks import pull_lock

router = Router()


@router.register("pull_request", action="closed")
async def stop_following(event: Event, ctx: Context) -> None:
    """Closed or merged: no more digests or reconciles (reopening tracks it again)."""
    number = int(event.data["pull_request"]["number"])
    async with pull_lock(ctx.repo or "", number):
        pull = load_pull(ctx, number)
        if pull.tracked and not pull.state.closed:
            pull.state.closed = True
            pull.save(ctx, [])


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
    async with pull_lock(ctx.repo or "", int(pr["number"])):
        pull = await track(ctx, pr, settings)
    if pull is None:
        ctx.log.info("PR #%s: not tracked (no threat-model document, or excluded by the settings)", pr["number"])
