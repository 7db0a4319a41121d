"""`issues` closed/reopened: a follow-up issue the bot opened updates its question's record."""
from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.features import records_branch
from bot.service.features.followup_issues import parse_followup_marker, update_from_issue
from bot.service.features.tracked_pulls import load_pull
from bot.service.runtime.handler_context import Context
from bot.service.runtime.pull_locks import pull_lock

router = Router()


@router.register("issues", action="closed")
@router.register("issues", action="reopened")
async def followup_state(event: Event, ctx: Context) -> None:
    issue = event.data["issue"]
    if (issue.get("user") or {}).get("type") != "Bot":
        return  # anyone can paste a marker; only issues an App opened are ours to follow
    marker = parse_followup_marker(issue.get("body") or "")
    if marker is None or marker[0].lower() != (ctx.repo or "").lower():
        return  # not one of our follow-ups (or one of another repository's)
    _, number, question_id, title = marker
    async with pull_lock(ctx.repo or "", number):  # this event runs in the issue's lane, not the PR's
        pull = load_pull(ctx, number)
        changed = update_from_issue(pull, question_id, title, issue)
    if changed:
        ctx.log.info("follow-up #%s for %s is now %s", issue["number"], question_id, issue["state"])
        await records_branch.after_work(ctx, number)  # the PR is not this delivery's lane
