"""`push` to the records branch (`records: {location: branch}`): someone edited question records
there, so the bot takes their version before it next writes (and replays the PR's history into
it when that version replaced changes of the bot's that had not been written there yet)."""
from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.service.features import records_branch
from bot.service.features.reconcile import reconcile_pull
from bot.service.runtime.handler_context import Context
from bot.service.runtime.pull_locks import pull_lock
from bot.store.pull_state import load_pull_state

router = Router()


@router.register("push")
async def records_edited(event: Event, ctx: Context) -> None:
    ref, after = event.data.get("ref"), event.data.get("after")
    if not isinstance(ref, str) or not ref.startswith("refs/heads/") or not isinstance(after, str) or ctx.repo is None:
        return
    refreshed = await records_branch.on_push(ctx, ref, after, deleted=event.data.get("deleted") is True)
    if refreshed:
        ctx.log.info("records branch %s pushed: refreshed PRs %s", ref, refreshed)
    for number in refreshed:
        await heal(ctx, number)


async def heal(ctx: Context, number: int) -> None:
    """A person's version replaced changes of the bot's that had not reached the branch yet:
    replay the PR's history into it now, then write the result back."""
    assert ctx.repo is not None
    async with pull_lock(ctx.repo, number):
        if not load_pull_state(ctx.state_dir, ctx.repo, number).needs_reconcile:
            return
        await reconcile_pull(ctx, number)
    await records_branch.after_work(ctx, number)  # this delivery's lane is the repository, not the PR
