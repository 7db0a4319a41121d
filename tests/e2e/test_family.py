"""The family digest: one weekly comment for a canonical model and its satellite delta models."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from e2e_world import AUTHOR, DOC, FIXTURE, Review, thread_on
from test_scheduled import MONDAY_MORNING

from bot.core.digest_marker import parse_digest_marker, parse_family_digest_marker
from bot.core.settings import CONFIG_PATH
from bot.sandbox import REPO, start_service
from bot.store.folder import FolderStore
from bot.store.pull_state import pull_directory

ON_BOTH_DATABASES = True  # the `review` here runs on SQLite and on PostgreSQL (conftest.py)

SATELLITE = "apache/cloudstack-go"
UNTRACKED = "apache/cloudstack-terraform-provider"
SATELLITE_DOC = "THREAT_MODEL.md"
SATELLITE_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "documents" / "numbered-list-shaped.md"


def family_config(post_to: str | None = None) -> str:
    lines = ["family:", "  satellites:", f"    - {SATELLITE}", f"    - {UNTRACKED}"]
    if post_to is not None:
        lines.append(f"  post_to: {post_to!r}")
    return "\n".join(lines) + "\n"


def comments_on(review: Review, repo: str, number: int) -> list:
    issue_comments = review.hub.state.issue_comments.values()
    return [c for c in issue_comments if c.issue_number == number and c.repo == repo]


def family_digests(review: Review, repo: str, number: int) -> list:
    return [c for c in comments_on(review, repo, number) if parse_family_digest_marker(c.body)]


def own_digests(review: Review, repo: str, number: int) -> list:
    return [c for c in comments_on(review, repo, number) if parse_digest_marker(c.body)]


async def open_satellite_pr(review: Review) -> int:
    hub = review.hub
    hub.create_repo(SATELLITE, {"README.md": "# cloudstack-go\n"})
    hub.create_repo(UNTRACKED, {"README.md": "# terraform provider\n"})
    hub.push(SATELLITE, "threat-model", {SATELLITE_DOC: SATELLITE_FIXTURE.read_text(encoding="utf-8")}, user=AUTHOR,
             message="Add the delta threat model")
    number = hub.open_pr(SATELLITE, "threat-model", user=AUTHOR, title="Add the delta threat model")
    await review.box.settle()
    return number


def satellite_records(review: Review, number: int) -> dict:
    return FolderStore(pull_directory(review.state_dir, SATELLITE, number) / "questions").load()


async def test_one_family_digest_a_week_covers_every_repository_and_replaces_the_canonical_prs_own(review: Review) -> None:
    hub = review.hub
    hub.push(REPO, "main", {CONFIG_PATH: family_config()}, user="vish", message="Configure the family digest")
    satellite_pr = await open_satellite_pr(review)
    assert satellite_records(review, satellite_pr), "the satellite PR is tracked"
    root = await thread_on(review, "Q3")
    hub.reply(REPO, review.number, root, "/confirm", user="daan")
    await review.box.settle()

    review.box.scheduler.clock = lambda: MONDAY_MORNING
    await review.box.scheduler.tick()
    await review.box.scheduler.tick()

    (digest,) = family_digests(review, REPO, review.number)
    assert own_digests(review, REPO, review.number) == []  # the family digest stands in for it
    week, figures = parse_family_digest_marker(digest.body)
    assert week == "2026-W48"
    assert set(figures) == {REPO, SATELLITE, UNTRACKED}
    assert figures[REPO].confirmed == frozenset({"Q3"})
    assert figures[SATELLITE].total == len(satellite_records(review, satellite_pr))
    assert f"`{SATELLITE}`" in digest.body and "no threat-model PR tracked" in digest.body
    # The satellite has no family of its own: it keeps its own weekly digest on its own PR.
    assert len(own_digests(review, SATELLITE, satellite_pr)) == 1

    # A restart and a second scheduler racing the first: still one family digest this week.
    async with start_service(hub, review.state_dir, review.box.private_key, clock=lambda: MONDAY_MORNING,
                             database_url=review.box.config.database_url) as second:
        await asyncio.gather(second.scheduler.tick(), review.box.scheduler.tick())
    assert [c.id for c in family_digests(review, REPO, review.number)] == [digest.id]

    # Next week: a new one, with last week's figures to compare against; last week's minimized.
    review.box.scheduler.clock = lambda: MONDAY_MORNING + timedelta(days=7)
    await review.box.scheduler.tick()
    first, second_week = family_digests(review, REPO, review.number)
    assert parse_family_digest_marker(second_week.body)[0] == "2026-W49"
    assert first.minimized_reason is not None and second_week.minimized_reason is None
    assert "Since 2026-W48" in second_week.body


async def test_the_family_digest_goes_where_the_configuration_says(review: Review) -> None:
    hub = review.hub
    tracking_issue = hub.open_issue(REPO, "Threat-model review: the cloudstack family", user="vish")
    hub.push(REPO, "main", {CONFIG_PATH: family_config(post_to=f"#{tracking_issue}")}, user="vish",
             message="Post the family digest on the tracking issue")
    await open_satellite_pr(review)

    review.box.scheduler.clock = lambda: MONDAY_MORNING
    await review.box.scheduler.tick()

    assert len(family_digests(review, REPO, tracking_issue)) == 1
    assert family_digests(review, REPO, review.number) == []
    assert own_digests(review, REPO, review.number) == []


async def test_an_invalid_family_section_is_reported_once_on_the_pr_and_nothing_is_posted(review: Review) -> None:
    hub = review.hub
    hub.push(REPO, "main", {CONFIG_PATH: "family:\n  satellites: [not-a-repo]\n"}, user="vish", message="Typo")

    review.box.scheduler.clock = lambda: MONDAY_MORNING
    await review.box.scheduler.tick()
    await review.box.scheduler.tick()

    bodies = [c.body for c in comments_on(review, REPO, review.number)]
    assert sum("family.satellites[0]" in body for body in bodies) == 1
    assert not any(parse_family_digest_marker(body) or parse_digest_marker(body) for body in bodies)
    assert review.state().document_path == DOC  # still tracked; only the digest waits for a fixed file


async def test_two_threat_model_prs_in_the_canonical_repository_still_get_one_family_digest(review: Review) -> None:
    hub = review.hub
    hub.push(REPO, "main", {CONFIG_PATH: family_config()}, user="vish", message="Configure the family digest")
    await open_satellite_pr(review)
    hub.push(REPO, "threat-model-v2", {DOC: FIXTURE.read_text(encoding="utf-8")}, user=AUTHOR, message="A second draft")
    second = hub.open_pr(REPO, "threat-model-v2", user=AUTHOR, title="Threat model, second draft")
    await review.box.settle()

    review.box.scheduler.clock = lambda: MONDAY_MORNING
    await review.box.scheduler.tick()

    assert family_digests(review, REPO, review.number) == []
    assert len(family_digests(review, REPO, second)) == 1  # the newest PR carries it
    assert own_digests(review, REPO, review.number) == own_digests(review, REPO, second) == []
