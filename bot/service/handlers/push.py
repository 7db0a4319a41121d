"""`push` to the records branch (`records: {location: branch}`): someone edited question records
there, so the bot takes their version before it next writes."""
from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service import records_branch
from bot.service.context import Context
from bot.store.pull_state import tracked_pulls
from bot.store.repo_config import RepoConfigError

router = Router()


@router.register("push")
async def records_edited(event: Event, ctx: Context) -> None:
    ref, after = event.data.get("ref"), event.data.get("after")
    if not isinstance(ref, str) or not ref.startswith("refs/heads/") or not isinstance(after, str):
        return
    if ctx.repo is None or not any(repo == ctx.repo for repo, _ in tracked_pulls(ctx.state_dir)):
        return  # no PR tracked here: no records anywhere (and no need to read the settings)
    try:
        settings = await ctx.repo_settings()
    except RepoConfigError:
        return  # reported on the PR when its next event arrives
    refreshed = await records_branch.on_push(ctx, ref, after, settings)
    if refreshed:
        ctx.log.info("records branch %s pushed: refreshed PRs %s", ref, refreshed)
