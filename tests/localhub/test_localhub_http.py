"""Pagination, conditional requests, rate limits, fault injection and the request log."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from gidgethub import BadRequest, GitHubBroken, RateLimitExceeded
from gidgethub.aiohttp import GitHubAPI

from hub_world import MEMBER, REPO


@pytest.fixture
async def token(hub, installation_token):
    return await installation_token(hub)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


async def test_pagination_follows_link_headers(hub, token, session):
    number = hub.open_issue(REPO, "many", user=MEMBER)
    for n in range(1, 8):
        hub.comment(REPO, number, f"c{n}", user=MEMBER)
    url = f"{hub.url}/repos/{REPO}/issues/{number}/comments?per_page=3&page=2"
    async with session.get(url, headers={"Authorization": f"token {token}"}) as response:
        link = response.headers["Link"]
        assert [c["body"] for c in await response.json()] == ["c4", "c5", "c6"]
    assert 'page=3>; rel="next"' in link and 'page=3>; rel="last"' in link
    assert 'page=1>; rel="prev"' in link and 'page=1>; rel="first"' in link
    gh = GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url)
    bodies = [c["body"] async for c in gh.getiter(f"/repos/{REPO}/issues/{number}/comments?per_page=2")]
    assert bodies == [f"c{n}" for n in range(1, 8)]
    assert hub.count_requests("GET", f"/repos/{REPO}/issues/{number}/comments") == 5
    async with session.get(f"{hub.url}/repos/{REPO}/issues/{number}/comments?per_page=500",
                           headers={"Authorization": f"token {token}"}) as response:
        assert len(await response.json()) == 7 and "Link" not in response.headers  # capped at 100


async def test_a_lowered_page_size_caps_what_a_client_asks_for(hub, token, session):
    number = hub.open_issue(REPO, "many", user=MEMBER)
    for n in range(1, 6):
        hub.comment(REPO, number, f"c{n}", user=MEMBER)
    hub.max_per_page = 2
    async with session.get(f"{hub.url}/repos/{REPO}/issues/{number}/comments?per_page=100",
                           headers={"Authorization": f"token {token}"}) as response:
        assert [c["body"] for c in await response.json()] == ["c1", "c2"]
        assert 'per_page=2&page=3>; rel="last"' in response.headers["Link"]


async def test_etag_304_does_not_count_against_the_rate_limit(hub, token, session):
    cache: dict = {}
    gh = GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url, cache=cache)
    first = await gh.getitem(f"/repos/{REPO}")
    again = await gh.getitem(f"/repos/{REPO}")  # conditional: If-None-Match from gidgethub's cache
    assert again == first and hub.requests[-1].status == 304

    headers = {"Authorization": f"token {token}"}
    async with session.get(f"{hub.url}/repos/{REPO}", headers=headers) as response:
        etag, remaining = response.headers["ETag"], int(response.headers["X-RateLimit-Remaining"])
    async with session.get(f"{hub.url}/repos/{REPO}", headers={**headers, "If-None-Match": etag}) as response:
        assert response.status == 304 and await response.read() == b""
        assert int(response.headers["X-RateLimit-Remaining"]) == remaining  # free
    hub.open_issue(REPO, "changes the repo's open_issues count", user=MEMBER)
    async with session.get(f"{hub.url}/repos/{REPO}", headers={**headers, "If-None-Match": etag}) as response:
        assert response.status == 200 and (await response.json())["open_issues_count"] == 1
        assert int(response.headers["X-RateLimit-Remaining"]) == remaining - 1


async def test_rate_limit_counts_down_and_runs_out(hub, token, session):
    hub.set_rate_limit(3)
    gh = GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url)
    await gh.getitem(f"/repos/{REPO}")
    assert (gh.rate_limit.limit, gh.rate_limit.remaining) == (3, 2)
    await gh.getitem(f"/repos/{REPO}")
    await gh.getitem(f"/repos/{REPO}")
    with pytest.raises(RateLimitExceeded):
        await gh.getitem(f"/repos/{REPO}")
    async with session.get(f"{hub.url}/repos/{REPO}", headers={"Authorization": f"token {token}"}) as response:
        assert response.status == 403 and response.headers["X-RateLimit-Remaining"] == "0"
        assert int(response.headers["X-RateLimit-Reset"]) > time.time()


@pytest.mark.openapi_bad_requests  # a trailing slash and a body without a title
async def test_error_bodies_are_shaped_like_githubs(hub, token, session):
    headers = {"Authorization": f"token {token}"}
    async with session.get(f"{hub.url}/repos/{REPO}/pulls/99", headers=headers) as response:
        body = await response.json()
        assert response.status == 404 and body["message"] == "Not Found" and body["documentation_url"]
    async with session.get(f"{hub.url}/repos/{REPO}/", headers=headers) as response:
        assert response.status == 404  # trailing slash, as on GitHub
    async with session.post(f"{hub.url}/repos/{REPO}/issues", headers=headers, json={}) as response:
        body = await response.json()
        assert response.status == 422 and body["errors"][0] == {"resource": "Issue", "field": "title", "code": "missing_field"}


async def test_faults_latency_errors_secondary_limits_and_conflicts(hub, token, session):
    gh = GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url)
    hub.faults.latency(f"/repos/{REPO}", 0.2, method="GET", times=1)
    started = time.monotonic()
    await gh.getitem(f"/repos/{REPO}")
    assert time.monotonic() - started >= 0.2
    hub.faults.error("/repos/*/issues/*/comments", status=502, times=1)
    with pytest.raises(GitHubBroken):
        await gh.post(f"/repos/{REPO}/issues/1/comments", data={"body": "x"})
    limited = hub.faults.secondary_rate_limit("/repos/*", status=429, retry_after=7, times=2)
    async with session.get(f"{hub.url}/repos/{REPO}", headers={"Authorization": f"token {token}"}) as response:
        assert response.status == 429 and response.headers["Retry-After"] == "7"
        assert "secondary rate limit" in (await response.json())["message"]
    with pytest.raises(BadRequest) as forbidden:
        await gh.getitem(f"/repos/{REPO}")
    assert forbidden.value.status_code == 429 and limited.hits == 2
    hub.faults.conflict("/repos/*/contents/*", method="PUT")
    with pytest.raises(BadRequest) as conflict:
        await gh.put(f"/repos/{REPO}/contents/x.md", data={"message": "m", "content": "eA=="})
    assert conflict.value.status_code == 409
    assert (await gh.getitem(f"/repos/{REPO}"))["name"] == "cloudstack"  # all spent


async def test_a_hung_request_times_out_the_client_until_cleared(hub, token, session):
    hub.faults.hang(f"/repos/{REPO}")
    with pytest.raises(asyncio.TimeoutError):
        async with session.get(f"{hub.url}/repos/{REPO}", headers={"Authorization": f"token {token}"},
                               timeout=aiohttp.ClientTimeout(total=0.3)):
            pass
    hub.faults.clear()
    async with session.get(f"{hub.url}/repos/{REPO}", headers={"Authorization": f"token {token}"}) as response:
        assert response.status == 200


async def test_request_log_records_method_path_status_and_time(hub, token, session):
    gh = GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url)
    await gh.getitem(f"/repos/{REPO}")
    record = hub.requests[-1]
    assert (record.method, record.path, record.status, record.caller) == ("GET", f"/repos/{REPO}", 200, "threat-model-bot[bot]")
    assert record.duration >= 0 and abs(record.started_at - time.time()) < 5
    assert hub.count_requests("POST", "/app/installations/*/access_tokens", status=201) == 1
