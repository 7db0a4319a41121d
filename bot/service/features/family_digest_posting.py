"""The family digest: one weekly comment for a PMC's canonical model and its satellite models.

Configured in the canonical repository (`family:` in .github/threat-model-bot.yml), built around
its newest tracked open PR (so a second draft open there does not make a second digest). The
scheduler posts it instead of the canonical PR's own digest: the family digest carries the
canonical repository's section too, so one comment a week says everything. Satellites are read
from the state directory, as the service tracks them (the App must be installed there too); a
satellite with no tracked PR is listed as such rather than silently dropped.
"""
from __future__ import annotations

from datetime import datetime

from bot.core.digest_publication import DigestLook
from bot.core.digest_review import maintainer_logins
from bot.core.digest_wording import Digest
from bot.core.family_digest_wording import FamilyRole, render_family_digest
from bot.service.features.digest_posting import DigestRun, look_at_thread, post_once
from bot.service.features.replies import known_maintainers, settings_or_report
from bot.service.features.tracked_pulls import load_pull
from bot.service.runtime.handler_context import Context
from bot.store.family import member_from_state
from bot.store.pull_state import newest_tracked_pull


async def post_family_digest(ctx: Context, number: int, now: datetime, *, week: str) -> DigestRun | None:
    """The family digest for `week`, built around canonical PR `number` and posted where the
    settings say (that PR by default). None when this repository has no family."""
    assert ctx.repo is not None
    repo = ctx.repo  # named, so the nested render() below knows it is set
    settings = await settings_or_report(ctx, number)
    canonical = load_pull(ctx, number)
    if settings is None or not settings.family.enabled or not settings.digest.enabled or not canonical.tracked:
        return None
    carrier = newest_tracked_pull(ctx.state_dir, ctx.repo)
    if carrier is None or carrier.number != number:
        # Two threat-model PRs open here (a second draft, say): the newest carries the family.
        canonical.state.last_digest_week = week
        canonical.save(ctx, [])
        return None
    target = settings.family.post_to or number

    def render(look: DigestLook) -> Digest:
        satellites = [
            (satellite.repo, newest_tracked_pull(ctx.state_dir, satellite.repo, satellite.pr))
            for satellite in settings.family.satellites_besides(repo)
        ]
        members = [member_from_state(ctx.state_dir, repo, canonical.state, FamilyRole.CANONICAL)]
        members += [member_from_state(ctx.state_dir, repo, state, FamilyRole.SATELLITE) for repo, state in satellites]
        # A PMC's repositories share one set of maintainers: the canonical repository's rule
        # decides, over every member's answers, plus whom GitHub confirmed as maintainers.
        maintainers = known_maintainers(canonical, settings) | maintainer_logins(
            (record for member in members for record in member.records), settings.maintainers
        )
        for _, state in satellites:
            maintainers |= {login for login, maintainer in (state.people if state else {}).items() if maintainer}
        return render_family_digest(
            members, now, maintainers=maintainers, previous=look.previous_member_figures, week=week
        )

    look = await look_at_thread(ctx, target, week, family=True)
    run = await post_once(ctx, target, look, render, dry_run=settings.dry_run)
    canonical.state.last_digest_week = week  # the family digest stands in for this PR's own
    canonical.save(ctx, [])
    return run
