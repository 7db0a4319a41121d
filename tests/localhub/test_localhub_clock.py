"""The local GitHub takes its time from the clock its creator gives it, and tests move it on.

Everything it stamps (created_at, updated_at, submitted_at, delivered_at) and everything it
judges by time (token expiry, JWT lifetimes, rate-limit windows) reads that one clock, so a
test says "a second later" instead of sleeping for one.
"""
from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from hub_world import INSTALLATION_ID, MAINTAINER, MEMBER, REPO, app_jwt, seed_world
from localhub import FixedClock, LocalHub, RealClock

MONDAY = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


async def get_json(session: aiohttp.ClientSession, url: str, token: str) -> tuple[int, object]:
    async with session.get(url, headers={"Authorization": f"token {token}"}) as response:
        return response.status, await response.json()


async def test_every_stamp_comes_from_the_given_clock_in_githubs_format(rsa_key_pair) -> None:
    clock = FixedClock(MONDAY)
    async with LocalHub.start(clock=clock) as hub:
        seed_world(hub, rsa_key_pair)
        number = hub.open_issue(REPO, "Size limits", "Which limits apply?", user=MAINTAINER)
        clock.advance(1)
        comment = hub.comment(REPO, number, "The 2 GB cap.", user=MEMBER)
        clock.advance(2.5)  # sub-second parts are dropped, as GitHub writes whole seconds
        hub.edit_comment(REPO, comment, "The 2 GiB cap.", user=MEMBER)
        token = hub.personal_token(MEMBER)
        async with aiohttp.ClientSession() as session:
            _, repo = await get_json(session, f"{hub.url}/repos/{REPO}", token)
            _, issue = await get_json(session, f"{hub.url}/repos/{REPO}/issues/{number}", token)
            _, reply = await get_json(session, f"{hub.url}/repos/{REPO}/issues/comments/{comment}", token)
    assert isinstance(repo, dict) and isinstance(issue, dict) and isinstance(reply, dict)
    assert repo["created_at"] == repo["pushed_at"] == "2026-01-05T09:00:00Z"
    assert issue["created_at"] == "2026-01-05T09:00:00Z"
    assert issue["updated_at"] == "2026-01-05T09:00:01Z", "a new comment touches its issue"
    assert reply["created_at"] == "2026-01-05T09:00:01Z"
    assert reply["updated_at"] == "2026-01-05T09:00:03Z"


async def test_the_default_clock_is_real_time_and_a_test_can_move_it_on(hub) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    first = hub.state.issue_comments[hub.comment(REPO, hub.open_issue(REPO, "t", user=MAINTAINER), "a", user=MAINTAINER)]
    hub.clock.advance(1)
    second = hub.state.issue_comments[hub.comment(REPO, first.issue_number, "b", user=MAINTAINER)]
    assert isinstance(hub.clock, RealClock)
    assert before <= datetime.fromisoformat(first.created_at)
    assert first.created_at < second.created_at, "one second on, visibly later at whole-second precision"


async def test_an_installation_token_expires_when_the_hubs_clock_passes_its_lifetime(rsa_key_pair) -> None:
    async with LocalHub.start(token_ttl=60) as hub:
        seed_world(hub, rsa_key_pair)
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {app_jwt(rsa_key_pair)}"}
            async with session.post(f"{hub.url}/app/installations/{INSTALLATION_ID}/access_tokens", headers=headers) as r:
                token = (await r.json())["token"]
            hub.clock.advance(59)
            assert (await get_json(session, f"{hub.url}/repos/{REPO}", token))[0] == 200
            hub.clock.advance(2)
            status, body = await get_json(session, f"{hub.url}/repos/{REPO}", token)
    assert status == 401 and isinstance(body, dict) and body["message"] == "Bad credentials"


async def test_an_app_jwt_is_judged_by_the_hubs_clock(hub, rsa_key_pair) -> None:
    jwt_token = app_jwt(rsa_key_pair, lifetime=540)
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {jwt_token}"}
        async with session.get(f"{hub.url}/app", headers=headers) as r:
            assert r.status == 200
        hub.clock.advance(600)  # past its `exp`, though the wall clock is not
        async with session.get(f"{hub.url}/app", headers=headers) as r:
            assert r.status == 401 and "Expiration time" in (await r.json())["message"]


async def test_a_jwt_issued_in_the_hubs_future_is_refused(rsa_key_pair) -> None:
    async with LocalHub.start(clock=FixedClock(MONDAY)) as hub:
        seed_world(hub, rsa_key_pair)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{hub.url}/app", headers={"Authorization": f"Bearer {app_jwt(rsa_key_pair)}"}) as r:
                assert r.status == 401 and "Issued at" in (await r.json())["message"]


async def test_the_rate_limit_window_opens_again_when_the_clock_reaches_its_reset(hub) -> None:
    token = hub.personal_token(MEMBER)
    async with aiohttp.ClientSession() as session:
        await get_json(session, f"{hub.url}/repos/{REPO}", token)  # opens the caller's window
        hub.set_rate_limit(5, used=5)
        status, _ = await get_json(session, f"{hub.url}/repos/{REPO}", token)
        assert status == 403
        hub.clock.advance(3600)
        async with session.get(f"{hub.url}/repos/{REPO}", headers={"Authorization": f"token {token}"}) as r:
            assert r.status == 200
            assert int(r.headers["X-RateLimit-Reset"]) >= int(hub.clock.now().timestamp()) + 3599


def test_the_clock_never_goes_back() -> None:
    for clock in (RealClock(), FixedClock(MONDAY)):
        with pytest.raises(ValueError, match="only moves forward"):
            clock.advance(-1)


def test_a_fixed_clock_needs_a_timezone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 5, 9, 0, 0))
