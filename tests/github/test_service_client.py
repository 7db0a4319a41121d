"""The service's GitHub client and token cache, against the local GitHub (localhub).

Token caching and renewal, the per-installation ETag cache, retries on 5xx and timeouts,
secondary-rate-limit waits, and graphql's explicit endpoint — all observed in the hub's request log.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from gidgethub import BadRequest, GitHubBroken, RateLimitExceeded

from bot.github.auth import AppCredentials, InstallationTokens
from bot.github.client import GitHubApp, LruCache, RetryPolicy
from localhub.server import LocalHub

# The world the shared `hub` fixture (tests/conftest.py) seeds, read from the hub itself rather
# than imported: another directory's conftest.py may shadow the module name `conftest`.
APP_ID, INSTALLATION_ID, REPO = 4242, 77, "apache/cloudstack"


@pytest.fixture(autouse=True)
def the_seeded_world_is_the_expected_one(request: pytest.FixtureRequest) -> None:
    if "hub" in request.fixturenames:
        hub = request.getfixturevalue("hub")
        assert APP_ID in hub.state.apps and INSTALLATION_ID in hub.state.installations
        assert hub.state.repo(*REPO.split("/")) is not None


FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, max_rate_limit_wait=5.0, request_timeout=1.0)
TOKEN_PATH = f"/app/installations/{INSTALLATION_ID}/access_tokens"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def make_app(hub: LocalHub, session: aiohttp.ClientSession, keys: Any, retry: RetryPolicy = FAST_RETRY,
             tokens: InstallationTokens | None = None) -> GitHubApp:
    return GitHubApp(session, AppCredentials(str(APP_ID), keys.private_pem.decode()), base_url=hub.url,
                     retry=retry, tokens=tokens)


# ---- tokens ------------------------------------------------------------------------------


async def test_one_token_is_minted_for_a_burst_and_reused_by_every_client(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair)
    repos = await asyncio.gather(*(github.installation_client(INSTALLATION_ID).getitem(f"/repos/{REPO}") for _ in range(20)))
    assert {repo["full_name"] for repo in repos} == {REPO}
    await github.installation_client(INSTALLATION_ID).getitem(f"/repos/{REPO}/pulls")
    assert hub.count_requests("POST", TOKEN_PATH, status=201) == 1
    assert github.tokens.fetches == 1


async def test_a_token_is_renewed_when_less_than_five_minutes_are_left(hub, session, rsa_key_pair) -> None:
    now = [datetime.now(UTC)]
    github = make_app(hub, session, rsa_key_pair)
    github.tokens = InstallationTokens(github.app_client(), github.credentials, clock=lambda: now[0])
    first = await github.tokens.token(INSTALLATION_ID)
    expires_at = github.tokens.cached(INSTALLATION_ID).expires_at  # type: ignore[union-attr]

    now[0] = expires_at - timedelta(minutes=5, seconds=30)  # still more than 5 minutes: reuse
    assert await github.tokens.token(INSTALLATION_ID) == first
    now[0] = expires_at - timedelta(minutes=4, seconds=59)  # inside the margin: renew
    second = await github.tokens.token(INSTALLATION_ID)
    assert second != first
    assert hub.count_requests("POST", TOKEN_PATH, status=201) == 2
    # ...and the renewed token is one GitHub accepts.
    assert (await github.installation_client(INSTALLATION_ID).getitem(f"/repos/{REPO}"))["full_name"] == REPO


async def test_short_lived_tokens_from_github_are_renewed_every_time(rsa_key_pair, session) -> None:
    async with LocalHub.start(token_ttl=240) as hub:  # 4 minutes: always inside the renewal margin
        hub.register_app(APP_ID, rsa_key_pair.public_pem)
        hub.add_org("apache", {"maintainer": "admin"})
        hub.create_repo(REPO, {"README.md": "# cloudstack\n"})
        hub.install_app(APP_ID, "apache", installation_id=INSTALLATION_ID)
        github = make_app(hub, session, rsa_key_pair)
        for _ in range(3):
            await github.installation_client(INSTALLATION_ID).getitem(f"/repos/{REPO}")
        assert hub.count_requests("POST", TOKEN_PATH, status=201) == 3


async def test_a_token_github_rejects_is_dropped_and_replaced_once(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair)
    client = github.installation_client(INSTALLATION_ID)
    await client.getitem(f"/repos/{REPO}")
    hub.expire_tokens()  # GitHub now answers 401 to the cached token
    assert (await client.getitem(f"/repos/{REPO}/pulls")) == []
    assert hub.count_requests("GET", f"/repos/{REPO}/pulls", status=401) == 1
    assert hub.count_requests("POST", TOKEN_PATH, status=201) == 2


# ---- ETag cache --------------------------------------------------------------------------


async def test_etag_cache_turns_a_repeat_get_into_a_free_304_per_installation(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair)
    first = await github.installation_client(INSTALLATION_ID).getitem(f"/repos/{REPO}")
    remaining = github.rate_limit_remaining(INSTALLATION_ID)
    second = await github.installation_client(INSTALLATION_ID).getitem(f"/repos/{REPO}")  # a new client, same cache
    assert second == first
    assert hub.count_requests("GET", f"/repos/{REPO}", status=304) == 1
    assert github.rate_limit_remaining(INSTALLATION_ID) == remaining  # a 304 costs nothing


def test_the_etag_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    cache = LruCache(max_entries=2)
    cache["a"], cache["b"] = 1, 2
    assert cache["a"] == 1  # touch "a": "b" is now the oldest
    cache["c"] = 3
    assert sorted(cache) == ["a", "c"]


# ---- retries -----------------------------------------------------------------------------


async def test_5xx_is_retried_with_backoff_until_it_succeeds(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair)
    client = github.installation_client(INSTALLATION_ID)
    hub.faults.error(f"/repos/{REPO}", status=502, method="GET", times=2)
    assert (await client.getitem(f"/repos/{REPO}"))["full_name"] == REPO
    assert hub.count_requests("GET", f"/repos/{REPO}", status=502) == 2
    assert hub.count_requests("GET", f"/repos/{REPO}", status=200) == 1


async def test_5xx_gives_up_after_the_bounded_number_of_attempts(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair)
    client = github.installation_client(INSTALLATION_ID)
    await client.getitem(f"/repos/{REPO}/pulls")  # mint the token first: only the GET is faulted
    hub.faults.error(f"/repos/{REPO}", status=503, method="GET", times=None)
    with pytest.raises(GitHubBroken):
        await client.getitem(f"/repos/{REPO}")
    assert hub.count_requests("GET", f"/repos/{REPO}", status=503) == FAST_RETRY.attempts


async def test_a_timeout_is_retried(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair, retry=RetryPolicy(attempts=3, base_delay=0.01, request_timeout=0.3))
    client = github.installation_client(INSTALLATION_ID)
    await client.getitem(f"/repos/{REPO}/pulls")
    hub.faults.hang(f"/repos/{REPO}", method="GET", times=1, seconds=5)
    started = time.monotonic()
    assert (await client.getitem(f"/repos/{REPO}"))["full_name"] == REPO
    assert 0.3 <= time.monotonic() - started < 5  # the hang lasts 5 s: the request timeout cut it short
    assert client.calls == 3  # the pulls call, the hung one, the retry


@pytest.mark.parametrize("status", [403, 429])
async def test_a_secondary_rate_limit_waits_for_retry_after(hub, session, rsa_key_pair, status: int) -> None:
    github = make_app(hub, session, rsa_key_pair)
    client = github.installation_client(INSTALLATION_ID)
    await client.getitem(f"/repos/{REPO}/pulls")
    hub.faults.secondary_rate_limit(f"/repos/{REPO}/issues", status=status, retry_after=1, method="POST", times=1)
    started = time.monotonic()
    issue = await client.post(f"/repos/{REPO}/issues", data={"title": "Re-test the download-link expiry"})
    assert time.monotonic() - started >= 1.0
    assert issue["title"] == "Re-test the download-link expiry"
    assert hub.count_requests("POST", f"/repos/{REPO}/issues", status=status) == 1
    assert hub.count_requests("POST", f"/repos/{REPO}/issues", status=201) == 1


async def test_a_wait_longer_than_the_bound_is_not_sat_through(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair)
    client = github.installation_client(INSTALLATION_ID)
    await client.getitem(f"/repos/{REPO}/pulls")
    hub.faults.secondary_rate_limit(f"/repos/{REPO}", status=403, retry_after=600, method="GET", times=1)
    started = time.monotonic()
    with pytest.raises(BadRequest) as caught:
        await client.getitem(f"/repos/{REPO}")
    assert caught.value.status_code == 403 and time.monotonic() - started < 1.0


async def test_an_exhausted_primary_limit_surfaces_and_the_remaining_count_is_exposed(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair)
    client = github.installation_client(INSTALLATION_ID)
    await client.getitem(f"/repos/{REPO}")
    assert client.rate_limit_remaining == github.rate_limit_remaining(INSTALLATION_ID) == 4999
    hub.set_rate_limit(2, used=2)  # the reset is ~an hour away: far beyond the wait bound
    with pytest.raises(RateLimitExceeded):
        await client.getitem(f"/repos/{REPO}/pulls")
    assert github.rate_limit_remaining(INSTALLATION_ID) == 0


# ---- graphql -----------------------------------------------------------------------------


async def test_graphql_goes_to_the_configured_base_url_with_the_installation_token(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair)
    owner, name = REPO.split("/")
    data = await github.installation_client(INSTALLATION_ID).graphql(
        "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { name } }",
        owner=owner, name=name,
    )
    assert data == {"repository": {"name": name}}
    assert hub.count_requests("POST", "/graphql", status=200) == 1


async def test_graphql_5xx_is_retried_too(hub, session, rsa_key_pair) -> None:
    github = make_app(hub, session, rsa_key_pair)
    client = github.installation_client(INSTALLATION_ID)
    await client.getitem(f"/repos/{REPO}")
    hub.faults.error("/graphql", status=502, times=1)
    assert await client.graphql("query { viewer { login } }") == {"viewer": {"login": "threat-model-bot[bot]"}}
    assert hub.count_requests("POST", "/graphql", status=502) == 1
