"""The PyGithub batch adapter: credentials, bounded retry, digest bookkeeping.

The parts that talk HTTP run against the local GitHub further down.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
import requests
from github import GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait

from bot.github.batch import (
    DEFAULT_API_URL,
    Credentials,
    CredentialsError,
    Pacing,
    RetryPolicy,
    bounded_retry,
    connect,
    create_issue_comment,
    credentials_from_environment,
    get_permission,
    get_pull_request,
    is_org_member,
    list_review_comments,
    minimize_comment,
    read_file_or_none,
    read_history,
    split_repository,
)
from lantern_world import MAINTAINER, MEMBER, REPO, app_id_of

# --- credentials ---------------------------------------------------------------------------


def test_token_from_environment_with_default_api_url() -> None:
    credentials = credentials_from_environment({"GITHUB_TOKEN": "ghp_example"})
    assert credentials == Credentials(api_url=DEFAULT_API_URL, token="ghp_example")
    assert not credentials.is_app


def test_app_credentials_win_over_a_token(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nexample\n", encoding="utf-8")
    credentials = credentials_from_environment(
        {
            "GITHUB_APP_ID": "42",
            "GITHUB_PRIVATE_KEY_PATH": str(key),
            "GITHUB_TOKEN": "ghp_example",
            "GITHUB_API_URL": "https://ghe.example.org/api/v3/",
        }
    )
    assert credentials.is_app
    assert credentials.app_id == "42"
    assert credentials.private_key == key.read_text(encoding="utf-8")
    assert credentials.api_url == "https://ghe.example.org/api/v3"  # trailing slash dropped


def test_inline_private_key_is_preferred_to_the_key_path() -> None:
    credentials = credentials_from_environment(
        {"GITHUB_APP_ID": "7", "GITHUB_PRIVATE_KEY": "inline", "GITHUB_PRIVATE_KEY_PATH": "/nonexistent"}
    )
    assert credentials.private_key == "inline"


def test_no_credentials_names_every_variable() -> None:
    with pytest.raises(CredentialsError) as raised:
        credentials_from_environment({})
    message = str(raised.value)
    for variable in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_TOKEN"):
        assert variable in message


def test_app_id_without_key_says_which_half_is_missing() -> None:
    with pytest.raises(CredentialsError, match="GITHUB_PRIVATE_KEY"):
        credentials_from_environment({"GITHUB_APP_ID": "42"})
    with pytest.raises(CredentialsError, match="GITHUB_APP_ID"):
        credentials_from_environment({"GITHUB_PRIVATE_KEY": "pem"})


def test_split_repository_rejects_malformed_names() -> None:
    assert split_repository("apache/cloudstack") == ("apache", "cloudstack")
    for bad in ("apache", "/cloudstack", "apache/", "a/b/c"):
        with pytest.raises(ValueError):
            split_repository(bad)


# --- retry ---------------------------------------------------------------------------------


def test_retry_is_a_bounded_github_retry() -> None:
    policy = RetryPolicy(total=3, backoff_factor=0.5, secondary_rate_wait=20, max_wait=90)
    retry = bounded_retry(policy)
    assert isinstance(retry, GithubRetry)
    assert retry.total == 3
    assert retry.backoff_factor == 0.5
    assert retry.secondary_rate_wait == 20
    assert retry.max_rate_limit_wait == 90
    # urllib3 copies the retry object on every attempt: the bound must survive the copy.
    assert retry.new(total=2).max_rate_limit_wait == 90
    assert type(retry.new(total=2)) is type(retry)


# --- over the local GitHub -----------------------------------------------------------------




FAST = RetryPolicy(total=3, backoff_factor=0.0, secondary_rate_wait=1, max_wait=5)
NO_PACING = Pacing(seconds_between_requests=None, seconds_between_writes=None)


def _open_pr_with_review_comments(lantern_hub, count: int) -> int:
    """A PR on a threat model with `count` review comments, made on the hub's own loop."""

    def build() -> int:
        hub = lantern_hub.hub
        lines = "".join(f"Claim {n}. *(inferred — §14 Q1)*\n" for n in range(1, 51))
        hub.push(REPO, "threat-model", {"THREAT_MODEL.md": lines}, user=MEMBER)
        number = hub.open_pr(REPO, "threat-model", user=MEMBER, title="Threat model")
        for index in range(count):
            hub.review_comment(REPO, number, "THREAT_MODEL.md", 1 + index % 50, f"remark {index}", user=MAINTAINER)
        return number

    return lantern_hub.call(build)


def _token_client(lantern_hub, retry: RetryPolicy = FAST):
    token = lantern_hub.call(lantern_hub.hub.personal_token, MAINTAINER)
    return connect(Credentials(api_url=lantern_hub.url, token=token), REPO, retry=retry, pacing=NO_PACING)


def test_history_is_read_100_per_page_without_refetching_items(lantern_hub) -> None:
    number = _open_pr_with_review_comments(lantern_hub, 250)
    gh = _token_client(lantern_hub)
    history = read_history(gh, REPO, number)
    hub = lantern_hub.hub
    assert len(history.review_comments) == 250
    assert [item["id"] for item in history.review_comments] == sorted(item["id"] for item in history.review_comments)
    assert hub.count_requests("GET", f"/repos/{REPO}/pulls/{number}/comments") == 3
    assert hub.count_requests("GET", f"/repos/{REPO}/pulls/{number}/reviews") == max(1, math.ceil(len(history.reviews) / 100))
    assert hub.count_requests("GET", f"/repos/{REPO}/issues/{number}/comments") == 1
    # PyGithub would GET each listed item again to read its raw JSON; we never do.
    assert hub.count_requests("GET", f"/repos/{REPO}/pulls/comments/*") == 0
    assert all(request.query.find("per_page=100") >= 0 for request in hub.requests if request.path.endswith("/comments"))


def test_app_authentication_goes_through_the_installation(lantern_hub, rsa_key_pair) -> None:
    number = _open_pr_with_review_comments(lantern_hub, 1)
    app_id = str(app_id_of(lantern_hub))
    credentials = Credentials(api_url=lantern_hub.url, app_id=app_id, private_key=rsa_key_pair.private_pem.decode())
    gh = connect(credentials, REPO, retry=FAST, pacing=NO_PACING)
    pull = get_pull_request(gh, REPO, number)
    assert pull.number == number and pull.head_ref == "threat-model" and pull.base_ref == "main"
    created = create_issue_comment(gh, REPO, number, "hello from the App")
    assert created["user"]["login"] == "threat-model-bot[bot]"
    hub = lantern_hub.hub
    assert hub.count_requests("GET", f"/repos/{REPO}/installation", status=200) == 1
    assert hub.count_requests("POST", "/app/installations/*/access_tokens", status=201) == 1


def test_a_server_error_is_retried(lantern_hub) -> None:
    number = _open_pr_with_review_comments(lantern_hub, 3)
    gh = _token_client(lantern_hub)
    lantern_hub.call(lantern_hub.hub.faults.error, f"/repos/{REPO}/pulls/*/comments", 502, "GET", 1)
    assert len(list_review_comments(gh, REPO, number)) == 3
    hub = lantern_hub.hub
    assert hub.count_requests("GET", f"/repos/{REPO}/pulls/{number}/comments", status=502) == 1
    assert hub.count_requests("GET", f"/repos/{REPO}/pulls/{number}/comments", status=200) == 1


def test_a_short_secondary_rate_limit_is_waited_out(lantern_hub) -> None:
    number = _open_pr_with_review_comments(lantern_hub, 2)
    gh = _token_client(lantern_hub)
    lantern_hub.call(lantern_hub.hub.faults.secondary_rate_limit, f"/repos/{REPO}/pulls/*/comments", "GET", 1, 403, 1)
    started = time.monotonic()
    assert len(list_review_comments(gh, REPO, number)) == 2
    assert time.monotonic() - started >= 1.0  # it did honour Retry-After


@pytest.mark.parametrize("status", [403, 429])
def test_a_long_retry_after_fails_fast_instead_of_sleeping(lantern_hub, status: int) -> None:
    number = _open_pr_with_review_comments(lantern_hub, 2)
    gh = _token_client(lantern_hub)
    lantern_hub.call(lantern_hub.hub.faults.secondary_rate_limit, f"/repos/{REPO}/pulls/*/comments", "GET", 1, status, 3600)
    started = time.monotonic()
    with pytest.raises(RateLimitExceededExceedsMaxWait):
        list_review_comments(gh, REPO, number)
    assert time.monotonic() - started < 5


def test_retries_are_bounded_in_number(lantern_hub) -> None:
    number = _open_pr_with_review_comments(lantern_hub, 1)
    gh = _token_client(lantern_hub, RetryPolicy(total=2, backoff_factor=0.0, max_wait=5))
    lantern_hub.call(lantern_hub.hub.faults.error, f"/repos/{REPO}/pulls/*/comments", 502, "GET", None)
    with pytest.raises(requests.exceptions.RetryError):  # urllib3's tries are spent: requests says so
        list_review_comments(gh, REPO, number)
    assert lantern_hub.hub.count_requests("GET", f"/repos/{REPO}/pulls/{number}/comments", status=502) == 3


def test_minimize_comment_uses_graphql_at_the_base_url(lantern_hub) -> None:
    number = _open_pr_with_review_comments(lantern_hub, 0)
    gh = _token_client(lantern_hub)
    created = create_issue_comment(gh, REPO, number, "last week's digest")
    assert minimize_comment(gh, created["node_id"]) is True
    assert lantern_hub.hub.state.issue_comments[created["id"]].minimized_reason == "OUTDATED"
    assert lantern_hub.hub.count_requests("POST", "/graphql", status=200) == 1


def test_missing_files_read_as_none_and_permissions_by_role(lantern_hub) -> None:
    _open_pr_with_review_comments(lantern_hub, 0)
    gh = _token_client(lantern_hub)
    assert read_file_or_none(gh, REPO, ".github/threat-model-bot.yml", "main") is None
    assert read_file_or_none(gh, REPO, "THREAT_MODEL.md", "threat-model").startswith("Claim 1.")
    lantern_hub.call(lantern_hub.hub.add_collaborator, REPO, "helper", "triage")
    assert get_permission(gh, REPO, "helper") == "triage"
    assert get_permission(gh, REPO, MAINTAINER) == "admin"
    with pytest.raises(GithubException):
        get_pull_request(gh, REPO, 999)


def test_org_membership_as_the_maintainer_rule_asks_for_it(lantern_hub) -> None:
    gh = _token_client(lantern_hub)
    owner = REPO.split("/")[0]
    assert is_org_member(gh, owner, MEMBER) is True
    assert is_org_member(gh, owner, "a-passer-by") is False


@pytest.mark.parametrize(
    ("base_url", "graphql_url"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.org/api/v3", "https://ghe.example.org/api/graphql"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/graphql"),
    ],
)
def test_graphql_url_is_derived_from_the_base_url(base_url: str, graphql_url: str) -> None:
    gh = connect(Credentials(api_url=base_url, token="unused"), "apache/cloudstack")  # no request is made
    assert gh.requester.graphql_url == graphql_url
    assert gh.per_page == 100
