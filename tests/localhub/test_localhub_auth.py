"""App authentication over real HTTP: JWT → installation token → repository calls."""
from __future__ import annotations

import time

import aiohttp
import jwt
import pytest
from gidgethub import BadRequest, apps
from gidgethub.aiohttp import GitHubAPI

from hub_world import APP_ID, INSTALLATION_ID, REPO
from localhub import LocalHub


async def test_gidgethub_app_flow_gets_a_token_that_reads_the_repo(hub, rsa_key_pair):
    async with aiohttp.ClientSession() as session:
        app_gh = GitHubAPI(session, "bot", base_url=hub.url)
        token = await apps.get_installation_access_token(
            app_gh, installation_id=str(INSTALLATION_ID), app_id=str(APP_ID), private_key=rsa_key_pair.private_pem.decode())
        assert token["token"].startswith("ghs_") and token["expires_at"].endswith("Z")
        jwt_token = apps.get_jwt(app_id=str(APP_ID), private_key=rsa_key_pair.private_pem.decode())
        installation = await app_gh.getitem(f"/repos/{REPO}/installation", jwt=jwt_token)
        assert installation["id"] == INSTALLATION_ID and installation["app_id"] == APP_ID
        gh = GitHubAPI(session, "bot", oauth_token=token["token"], base_url=hub.url)
        repo = await gh.getitem(f"/repos/{REPO}")
        assert repo["default_branch"] == "main" and repo["permissions"]["push"] is True


@pytest.mark.parametrize("claims_change, message", [
    ({"iss": "999"}, "Integration not found"),
    ({"exp": -30, "iat": -700}, "Expiration time"),
    ({"exp": 3600}, "too far in the future"),
])
async def test_bad_jwts_are_refused_with_401(hub, rsa_key_pair, claims_change, message):
    now = int(time.time())
    claims = {"iat": now - 60, "exp": now + 500, "iss": str(APP_ID)}
    for key, value in claims_change.items():
        claims[key] = value if key == "iss" else now + value
    token = jwt.encode(claims, rsa_key_pair.private_pem, algorithm="RS256")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{hub.url}/app/installations/{INSTALLATION_ID}/access_tokens",
                                headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 401
            assert message in (await response.json())["message"]


async def test_repository_calls_need_a_live_token(hub, installation_token):
    token = await installation_token(hub)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{hub.url}/repos/{REPO}") as response:
            assert response.status == 401
            assert (await response.json())["message"] == "Requires authentication"
        async with session.get(f"{hub.url}/repos/{REPO}", headers={"Authorization": "Bearer nope"}) as response:
            assert response.status == 401
        async with session.get(f"{hub.url}/repos/{REPO}", headers={"Authorization": f"token {token}"}) as response:
            assert response.status == 200
        hub.expire_tokens()
        async with session.get(f"{hub.url}/repos/{REPO}", headers={"Authorization": f"token {token}"}) as response:
            assert response.status == 401 and (await response.json())["message"] == "Bad credentials"


async def test_app_endpoints_refuse_an_installation_token(hub, installation_token):
    token = await installation_token(hub)
    async with aiohttp.ClientSession() as session:
        gh = GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url)
        with pytest.raises(BadRequest) as refused:
            await gh.getitem(f"/repos/{REPO}/installation")
        assert refused.value.status_code == 401


async def test_personal_tokens_act_as_their_user(hub):
    token = hub.personal_token("outsider")
    async with aiohttp.ClientSession() as session:
        gh = GitHubAPI(session, "outsider", oauth_token=token, base_url=hub.url)
        repo = await gh.getitem(f"/repos/{REPO}")
        assert repo["permissions"] == {**repo["permissions"], "push": False, "pull": True}
        with pytest.raises(BadRequest) as refused:
            await gh.put(f"/repos/{REPO}/contents/new.md", data={"message": "m", "content": "eA=="})
        assert refused.value.status_code == 403


async def test_starts_only_on_loopback():
    async with LocalHub.start() as hub:
        assert hub.url.startswith("http://127.0.0.1:")
    for host in ("0.0.0.0", "192.168.1.10", "example.org", "::"):
        with pytest.raises(ValueError, match="loopback"):
            async with LocalHub.start(host=host):
                pass
