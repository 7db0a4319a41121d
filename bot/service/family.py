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

from bot.core.digest import (
    FamilyMember,
    FamilyRole,
    digest_for_week,
    previous_digest,
    render_family_digest,
)
from bot.core.document import parse_document
from bot.core.settings import RepoSettings, SatelliteRef
from bot.service.context import Context
from bot.service.digests import DigestRun, posted, publish
from bot.service.replies import known_maintainers, settings_or_report
from bot.service.tracking import Pull, load_pull, load_pull_from
from bot.store.pull_state import newest_tracked_pull

NOT_TRACKED = "no threat-model PR tracked by the bot"


async def post_family_digest(ctx: Context, number: int, now: datetime, *, week: str) -> DigestRun | None:
    """The family digest for `week`, built around canonical PR `number` and posted where the
    settings say (that PR by default). None when this repository has no family."""
    assert ctx.repo is not None
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
    existing = await posted(ctx, target, family=True)
    if digest_for_week(existing, week) is None:
        previous = previous_digest(existing, week)
        satellites = [(satellite, satellite_pull(ctx, satellite)) for satellite in own_satellites(ctx.repo, settings)]
        members = [member_of(ctx, canonical, FamilyRole.CANONICAL)]
        members += [satellite_member(ctx, satellite, pull) for satellite, pull in satellites]
        digest = render_family_digest(
            members,
            now,
            maintainers=family_maintainers([canonical, *(pull for _, pull in satellites if pull is not None)], settings),
            previous=dict(previous.member_figures or {}) if previous is not None else None,
            week=week,
        )
        if settings.dry_run:  # logged once a week, like a real post
            ctx.log.info("dry run: would post the %s family digest on #%s:\n%s", week, target, digest.markdown)
            run = DigestRun(week, None, already=False)
        else:
            run = await publish(ctx, target, digest.markdown, week, family=True, existing=existing)
    else:
        run = DigestRun(week, None, already=True)
    canonical.state.last_digest_week = week  # the family digest stands in for this PR's own
    canonical.save(ctx, [])
    return run


def own_satellites(repo: str, settings: RepoSettings) -> list[SatelliteRef]:
    """The configured satellites, less the canonical repository itself (it is there already)."""
    return [satellite for satellite in settings.family.satellites if satellite.repo.lower() != repo.lower()]


def member_of(ctx: Context, pull: Pull, role: FamilyRole) -> FamilyMember:
    text = pull.document_text_in(ctx.state_dir)
    document = parse_document(text, pull.state.document_path or "") if text is not None else None
    return FamilyMember(
        repo=pull.state.repo, role=role, records=pull.typed_records(), document=document, pr_url=pull.state.url,
    )


def satellite_member(ctx: Context, satellite: SatelliteRef, pull: Pull | None) -> FamilyMember:
    if pull is None:
        return FamilyMember(repo=satellite.repo, role=FamilyRole.SATELLITE, records=(), document=None, missing=NOT_TRACKED)
    return member_of(ctx, pull, FamilyRole.SATELLITE)


def satellite_pull(ctx: Context, satellite: SatelliteRef) -> Pull | None:
    """The satellite's configured PR, or else its newest open PR the bot tracks."""
    state = newest_tracked_pull(ctx.state_dir, satellite.repo, satellite.pr)
    return load_pull_from(ctx.state_dir, state.repo, state.number) if state is not None else None


def family_maintainers(pulls: list[Pull], settings: RepoSettings) -> set[str]:
    """Who the digest may @-mention. A PMC's repositories share one set of maintainers, so the
    canonical repository's rules decide, applied to every member's answers."""
    return set().union(*(known_maintainers(pull, settings) for pull in pulls))
