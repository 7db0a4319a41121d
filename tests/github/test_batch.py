"""The PyGithub batch adapter: credentials, bounded retry, digest bookkeeping.

The parts that talk HTTP run against the local GitHub further down.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from github import GithubRetry

from bot.core.digest import DigestFigures, digest_marker
from bot.github.batch import (
    DEFAULT_API_URL,
    Credentials,
    CredentialsError,
    RetryPolicy,
    bounded_retry,
    credentials_from_environment,
    digest_for_week,
    posted_digests,
    previous_digest,
    split_repository,
)


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


# --- digest bookkeeping --------------------------------------------------------------------


def _comment(comment_id: int, body: str, **extra) -> dict:
    return {"id": comment_id, "node_id": f"IC_{comment_id}", "body": body, **extra}


def test_posted_digests_are_found_by_marker_and_ordered_by_id() -> None:
    figures = DigestFigures(week="2026-W47", status_counts={"open": 3})
    comments = [
        _comment(30, digest_marker("2026-W48") + "\n## digest"),
        _comment(10, "a maintainer talking about the digest"),
        _comment(20, digest_marker("2026-W47", figures) + "\n## digest", minimized={"reason": "outdated"}),
    ]
    digests = posted_digests(comments)
    assert [(digest.comment_id, digest.week) for digest in digests] == [(20, "2026-W47"), (30, "2026-W48")]
    assert digests[0].figures == figures
    assert digests[0].minimized is True
    assert digests[1].minimized is None  # the JSON did not say


def test_this_week_is_the_oldest_copy_and_previous_is_the_latest_earlier_week() -> None:
    comments = [
        _comment(5, digest_marker("2026-W46")),
        _comment(9, digest_marker("2026-W47")),
        _comment(12, digest_marker("2026-W48")),
        _comment(11, digest_marker("2026-W48")),
    ]
    digests = posted_digests(comments)
    assert digest_for_week(digests, "2026-W48").comment_id == 11
    assert previous_digest(digests, "2026-W48").comment_id == 9
    assert previous_digest(digests, "2026-W46") is None
    assert digest_for_week(digests, "2026-W49") is None


def test_previous_digest_crosses_a_year_boundary() -> None:
    digests = posted_digests([_comment(1, digest_marker("2025-W52")), _comment(2, digest_marker("2026-W01"))])
    assert previous_digest(digests, "2026-W02").week == "2026-W01"
    assert previous_digest(digests, "2026-W01").week == "2025-W52"
