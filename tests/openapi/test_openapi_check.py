"""The OpenAPI check itself: it must find what differs from GitHub's description, name where,
and pass what agrees; otherwise a clean suite would prove nothing."""
from __future__ import annotations

import json
import os
from typing import Any

import pytest
from aiohttp import ClientSession

from hub_world import REPO
from localhub.observers import HttpExchange, WebhookEmitted
from localhub.server import LocalHub
from openapi.checks import check_http, check_webhook
from openapi.description import Description
from openapi.plugin import REFERENCE, Recorder, load_description, reference_present

RATE_LIMIT = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", "X-RateLimit-Used": "1",
              "X-RateLimit-Reset": "1790000000", "X-RateLimit-Resource": "core"}


def test_the_description_is_beside_the_repository() -> None:
    if reference_present():
        return
    message = f"GitHub's OpenAPI descriptions are not at {REFERENCE}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def description() -> Description:
    if not reference_present():
        pytest.skip(f"GitHub's OpenAPI descriptions are not at {REFERENCE}")
    return load_description()


def exchange(method: str, path: str, status: int, body: Any, *, query: str = "", sent: Any = None,
             headers: dict[str, str] | None = None) -> HttpExchange:
    return HttpExchange(method, path, query, {}, b"" if sent is None else json.dumps(sent).encode(), status,
                        RATE_LIMIT if headers is None else headers,
                        None if body is None else json.dumps(body).encode())


def user(login: str) -> dict[str, Any]:
    u = f"https://api.github.com/users/{login}"
    return {"login": login, "id": 7, "node_id": "U_7", "avatar_url": "https://avatars/7", "gravatar_id": "",
            "url": u, "html_url": f"https://github.com/{login}", "followers_url": f"{u}/followers",
            "following_url": f"{u}/following{{/other_user}}", "gists_url": f"{u}/gists{{/gist_id}}",
            "starred_url": f"{u}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{u}/subscriptions",
            "organizations_url": f"{u}/orgs", "repos_url": f"{u}/repos", "events_url": f"{u}/events{{/privacy}}",
            "received_events_url": f"{u}/received_events", "type": "User", "site_admin": False}


def found(disagreements: list[Any]) -> list[str]:
    return [str(d) for d in disagreements]


def test_paths_find_their_templates_literal_segments_first(description: Description) -> None:
    assert description.template_of("GET", "/repos/a/b/pulls/comments") == "/repos/{owner}/{repo}/pulls/comments"
    assert description.template_of("GET", "/repos/a/b/pulls/12") == "/repos/{owner}/{repo}/pulls/{pull_number}"
    assert description.template_of("GET", "/repos/a/b/contents/docs/x/THREAT.md") == "/repos/{owner}/{repo}/contents/{path}"
    assert description.template_of("DELETE", "/repos/a/b/git/refs/heads/records") == "/repos/{owner}/{repo}/git/refs/{ref}"
    assert description.template_of("GET", "/repos/a/b/no/such/thing") is None


def test_a_response_that_fits_passes_and_one_missing_a_required_field_is_named(description: Description) -> None:
    path = "/repos/apache/cloudstack/collaborators/vish/permission"
    good = {"permission": "admin", "role_name": "admin", "user": {**user("vish"), "role_name": "admin"}}
    assert found(check_http(description, exchange("GET", path, 200, good))) == []

    del good["role_name"]
    assert found(check_http(description, exchange("GET", path, 200, good))) == [
        "GET /repos/{owner}/{repo}/collaborators/{username}/permission -> 200: response $: "
        "'role_name' is a required property"]


def test_requests_are_held_to_their_operation(description: Description) -> None:
    unknown = check_http(description, exchange("GET", "/repos/a/b/no/such/thing", 404, {"message": "Not Found"}))
    assert [d.where for d in unknown] == ["request"]

    comment = "/repos/apache/cloudstack/issues/3/comments"
    wrong_body = check_http(description, exchange("POST", comment, 201, None, sent={"text": "hello"}))
    assert "request body $: 'body' is a required property" in found(wrong_body)[0]

    bad_page = check_http(description, exchange("GET", comment, 200, [], query="per_page=lots"))
    assert [d.where for d in bad_page] == ["request query per_page"]


def test_answers_carry_rate_limit_headers_and_errors_look_like_githubs(description: Description) -> None:
    path = "/repos/apache/cloudstack/issues/3/comments"
    bare = check_http(description, exchange("GET", path, 502, {"message": "Server Error"}, headers={}))
    assert sorted(d.where for d in bare) == sorted(f"header x-ratelimit-{name}"
                                                    for name in ("limit", "remaining", "used", "reset", "resource"))
    not_githubs = check_http(description, exchange("GET", path, 503, "upstream went away"))
    assert [d.where for d in not_githubs] == ["response $"]
    undeclared = check_http(description, exchange("GET", path, 418, {"message": "teapot"}))
    assert [d.where for d in undeclared] == ["status"]


def test_a_link_header_must_name_pages_of_the_same_list(description: Description) -> None:
    path = "/repos/apache/cloudstack/issues/3/comments"
    good = f'<http://127.0.0.1:1{path}?page=2>; rel="next", <http://127.0.0.1:1{path}?page=3>; rel="last"'
    assert check_http(description, exchange("GET", path, 200, [], headers={**RATE_LIMIT, "Link": good})) == []
    bad = check_http(description, exchange("GET", path, 200, [], headers={**RATE_LIMIT, "Link": "<x?page=2>; next"}))
    assert [d.where for d in bad] == ["header link"]


def test_a_webhook_is_held_to_its_event_and_headers(description: Description) -> None:
    headers = {"User-Agent": "GitHub-Hookshot/1", "X-GitHub-Event": "delete", "X-GitHub-Delivery": "d",
               "X-GitHub-Hook-ID": "1", "X-GitHub-Hook-Installation-Target-Type": "integration",
               "X-GitHub-Hook-Installation-Target-ID": "1"}
    payload = {"ref": "records", "ref_type": "branch", "pusher_type": "user", "sender": user("vish"),
               "repository": {"name": "cloudstack"}}
    found_ = found(check_webhook(description, WebhookEmitted("delete", headers, payload)))
    assert found_ and all(line.startswith("webhook delete: payload $.repository") for line in found_)

    payload["ref_type"] = "bookmark"
    bookmark = found(check_webhook(description, WebhookEmitted("delete", headers, payload)))
    assert any("payload $.ref_type" in line for line in bookmark)
    no_hook_id = {name: value for name, value in headers.items() if name != "X-GitHub-Hook-ID"}
    unhooked = found(check_webhook(description, WebhookEmitted("delete", no_hook_id, payload)))
    assert any("header X-Github-Hook-Id" in line for line in unhooked)
    unknown = check_webhook(description, WebhookEmitted("pull_request", headers, {"action": "teleported"}))
    assert [d.where for d in unknown] == ["event"]


async def test_the_recorder_hears_each_request_and_webhook_of_a_running_hub(hub: LocalHub, installation_token: Any) -> None:
    with Recorder() as recorder:
        token = await installation_token(hub)
        async with ClientSession() as session:
            async with session.get(f"{hub.url}/repos/{REPO}", headers={"Authorization": f"token {token}"}) as response:
                assert response.status == 200
        hub.push(REPO, "main", {"NOTES.md": "notes\n"}, user="maintainer", message="Notes")
    hub.push(REPO, "main", {"NOTES.md": "not heard\n"}, user="maintainer", message="After")

    heard = [(e.method, e.path, e.status) for e in recorder.http]
    assert heard == [("POST", "/app/installations/77/access_tokens", 201), ("GET", f"/repos/{REPO}", 200)]
    assert json.loads(recorder.http[-1].response_body or b"{}")["full_name"] == REPO
    assert [w.event for w in recorder.webhooks] == ["push"]
