"""PyGithub adapter for the batch jobs (`sync`, `digest`) run from a shell or a scheduler.

The webhook service talks to GitHub through gidgethub (async); these jobs are synchronous
one-shots, so PyGithub suits them. Everything PyGithub-specific stays in this module: the
commands get plain JSON dicts back and normalise them with `bot.github.normalise`.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubIntegration, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.GithubObject import NonCompletableGithubObject
from github.PaginatedList import PaginatedList
from urllib3.util.retry import Retry

from bot.core.digest_publication import DigestLook, PostedDigest, tidy_after_posting
from bot.core.permissions import permission_from_response
from bot.github.keys import PrivateKeyError, check_private_key, pem_from_setting

DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100  # GitHub's maximum: ceil(n/100) list calls per kind instead of ceil(n/30)
TIMEOUT_SECONDS = 30  # per HTTP request; GitHub itself gives up on requests after 10 s

TOKEN_VARIABLE = "GITHUB_TOKEN"
APP_ID_VARIABLE = "GITHUB_APP_ID"
PRIVATE_KEY_VARIABLE = "GITHUB_PRIVATE_KEY"
PRIVATE_KEY_PATH_VARIABLE = "GITHUB_PRIVATE_KEY_PATH"
API_URL_VARIABLE = "GITHUB_API_URL"
RETRIES_VARIABLE = "BOT_BATCH_RETRIES"  # how often a job retries a failed request (default 5)

log = logging.getLogger(__name__)
# What reaching GitHub can fail with once the retries are spent (PyGithub rides on requests).
NETWORK_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.RetryError)


class CredentialsError(RuntimeError):
    """Neither App credentials nor a token are configured (the message names the variables)."""


@dataclass(frozen=True)
class Credentials:
    api_url: str
    token: str | None = None
    app_id: str | None = None
    private_key: str | None = None
    key_source: str = PRIVATE_KEY_VARIABLE  # where the key came from, for an error message

    @property
    def is_app(self) -> bool:
        return self.app_id is not None and self.private_key is not None


@dataclass(frozen=True)
class RetryPolicy:
    """How long a batch job may wait on GitHub before giving up.

    A scheduler job must end: `GithubIntegration` has no retry at all by default, and an
    unbounded one would sleep until an hour-long rate-limit window resets.
    """

    total: int = 5
    backoff_factor: float = 1.0  # 0 s, 2 s, 4 s, ... between retries of 5xx answers
    backoff_max: float = 30.0
    secondary_rate_wait: float = 60.0  # GitHub asks for at least a minute after a secondary limit
    max_wait: float = 300.0  # longest single wait for a rate-limit reset or a Retry-After


@dataclass(frozen=True)
class Pacing:
    """PyGithub's own spacing between requests (GitHub asks for >= 1 s between writes)."""

    seconds_between_requests: float | None = 0.25
    seconds_between_writes: float | None = 1.0


class BoundedGithubRetry(GithubRetry):
    """`GithubRetry` whose `Retry-After` sleeps are bounded as well.

    GithubRetry caps only the waits it computes itself (rate-limit resets); urllib3 would
    otherwise sleep for whatever `Retry-After` a 403/429/503 carries.
    """

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        if seconds is not None and self.max_rate_limit_wait is not None and seconds > self.max_rate_limit_wait:
            raise RateLimitExceededExceedsMaxWait(
                response.status,
                None,
                dict(response.headers),
                message=f"Retry-After {seconds:g}s exceeds the {self.max_rate_limit_wait:g}s bound",
                wait=seconds,
            )
        return seconds

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,  # type: ignore[override]  # urllib3 says Self, PyGithub Retry
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Retry:
        """Say each retry as it happens, so a job waiting on GitHub is seen to wait."""
        retry = super().increment(method, url, response, error, _pool, _stacktrace)  # raises once the tries are spent
        why = f"HTTP {response.status}" if response is not None and error is None else short_reason(error)
        wait = retry.get_backoff_time()
        log.warning("%s %s: %s; retrying %s (%s left)", method, url, why, f"in {wait:.0f}s" if wait >= 0.5 else "now", retry.total)
        return retry


def short_reason(error: BaseException | None) -> str:
    """`Connection refused` rather than urllib3's three nested reprs."""
    text = str(error or "no answer")
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if found:
        return found.group(1).strip()
    if "timed out" in text.lower():
        return "timed out"
    return text.splitlines()[0][:200]


def describe_network_error(error: Exception, api_url: str, started: float, policy: RetryPolicy | None = None) -> str:
    """One line once every try failed: where, why, and how hard it tried."""
    tries = (policy or retry_policy_from_environment()).total + 1
    tried = "once" if tries == 1 else f"{tries} times"
    return (f"could not reach GitHub at {api_url}: {short_reason(error)} (tried {tried} over "
            f"{time.monotonic() - started:.0f}s); check the network, or {API_URL_VARIABLE}")


@contextmanager
def retries_reported(prefix: str) -> Iterator[None]:
    """While a command runs, print each retry on stderr as `<prefix>: ...`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prefix}: %(message)s"))
    log.addHandler(handler)
    level, propagate = log.level, log.propagate
    log.setLevel(logging.WARNING)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate


def retry_policy_from_environment(environ: Mapping[str, str] = os.environ) -> RetryPolicy:
    text = (environ.get(RETRIES_VARIABLE) or "").strip()
    if not text:
        return RetryPolicy()
    if not text.isdigit():
        raise CredentialsError(f"{RETRIES_VARIABLE} must be a whole number of retries, not {text!r}")
    return RetryPolicy(total=int(text))


def describe_error(error: GithubException) -> str:
    """One line for a person: GitHub's status and its message."""
    data = error.data if isinstance(error.data, dict) else {}
    message = error.message or data.get("message") or str(error.data or "")
    return f"GitHub answered {error.status}: {message}".rstrip(": ")


def bounded_retry(policy: RetryPolicy = RetryPolicy()) -> GithubRetry:
    return BoundedGithubRetry(
        total=policy.total,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        secondary_rate_wait=policy.secondary_rate_wait,
        max_rate_limit_wait=policy.max_wait,
    )


def credentials_from_environment(environ: Mapping[str, str] = os.environ) -> Credentials:
    """App credentials win over a token when both are set (an App's comments are the bot's)."""
    api_url = (environ.get(API_URL_VARIABLE) or DEFAULT_API_URL).rstrip("/")
    app_id = environ.get(APP_ID_VARIABLE) or None
    private_key = pem_from_setting(environ.get(PRIVATE_KEY_VARIABLE) or "") or None
    key_path = environ.get(PRIVATE_KEY_PATH_VARIABLE) or None
    source = PRIVATE_KEY_VARIABLE
    if private_key is None and key_path is not None:
        source = f"{PRIVATE_KEY_PATH_VARIABLE} ({key_path})"
        try:
            private_key = Path(key_path).read_text(encoding="utf-8")
        except OSError as error:
            raise CredentialsError(f"{source}: {error.strerror}") from None

    if app_id is not None and private_key is not None:
        return Credentials(api_url=api_url, app_id=app_id, private_key=private_key, key_source=source)
    token = environ.get(TOKEN_VARIABLE) or None
    if token is not None:
        return Credentials(api_url=api_url, token=token)
    if app_id is not None:
        raise CredentialsError(
            f"{APP_ID_VARIABLE} is set but neither {PRIVATE_KEY_VARIABLE} nor {PRIVATE_KEY_PATH_VARIABLE} is"
        )
    if private_key is not None:
        raise CredentialsError(f"a private key is set but {APP_ID_VARIABLE} is not")
    raise CredentialsError(
        f"no GitHub credentials: set {APP_ID_VARIABLE} and {PRIVATE_KEY_VARIABLE} (or {PRIVATE_KEY_PATH_VARIABLE}) "
        f"to act as the App, or {TOKEN_VARIABLE}"
    )


def connect(
    credentials: Credentials,
    repository: str,
    *,
    retry: RetryPolicy | None = None,
    pacing: Pacing = Pacing(),
) -> Github:
    """A `Github` client for `owner/repo`: as the App's installation on it, or with the token.
    `retry`: by default `RetryPolicy()` with BOT_BATCH_RETRIES tries, if set."""
    retry = retry or retry_policy_from_environment()
    options: dict[str, Any] = dict(
        base_url=credentials.api_url,
        timeout=TIMEOUT_SECONDS,
        per_page=PER_PAGE,
        retry=bounded_retry(retry),
        seconds_between_requests=pacing.seconds_between_requests,
        seconds_between_writes=pacing.seconds_between_writes,
    )
    if not credentials.is_app:
        assert credentials.token is not None
        return Github(auth=Auth.Token(credentials.token), **options)
    assert credentials.app_id is not None and credentials.private_key is not None
    try:
        check_private_key(credentials.private_key)  # before PyGithub fails on it deep in a request
    except PrivateKeyError as error:
        raise CredentialsError(f"{credentials.key_source} is {error}") from None
    integration = GithubIntegration(auth=Auth.AppAuth(credentials.app_id, credentials.private_key), **options)
    owner, name = split_repository(repository)
    installation = integration.get_repo_installation(owner, name)
    # The installation client inherits base URL, timeout, per_page and retry from the integration.
    return integration.get_github_for_installation(installation.id)


def split_repository(repository: str) -> tuple[str, str]:
    owner, _, name = repository.partition("/")
    if not owner or not name or "/" in name:
        raise ValueError(f"expected OWNER/REPO, got {repository!r}")
    return owner, name


# --- reading a pull request ----------------------------------------------------------------


class _Json(NonCompletableGithubObject):
    """A list item kept as the JSON GitHub sent.

    PyGithub's typed list items are "incomplete": reading `.raw_data` on one fetches the item
    again, one GET per comment. Keeping the listed JSON avoids those calls.
    """

    def _initAttributes(self) -> None:
        pass

    def _useAttributes(self, attributes: dict[str, Any]) -> None:
        pass


@dataclass(frozen=True)
class PullRequestInfo:
    number: int
    head_sha: str
    head_ref: str
    base_ref: str
    html_url: str


@dataclass(frozen=True)
class PullRequestHistory:
    """Everything said on a PR, as GitHub's JSON, each kind in GitHub's (ascending id) order."""

    review_comments: tuple[dict[str, Any], ...]
    reviews: tuple[dict[str, Any], ...]
    issue_comments: tuple[dict[str, Any], ...]


def get_pull_request(gh: Github, repository: str, number: int) -> PullRequestInfo:
    _, data = gh.requester.requestJsonAndCheck("GET", f"/repos/{repository}/pulls/{number}")
    return PullRequestInfo(
        number=int(data["number"]),
        head_sha=data["head"]["sha"],
        head_ref=data["head"]["ref"],
        base_ref=data["base"]["ref"],
        html_url=data.get("html_url") or "",
    )


def list_json(gh: Github, path: str) -> list[dict[str, Any]]:
    """Every item of a REST list endpoint, following `Link: rel="next"`, 100 per page."""
    pages: PaginatedList[_Json] = PaginatedList(_Json, gh.requester, path, {"per_page": PER_PAGE})
    return [item.raw_data for item in pages]


def newest_open_pull_numbers(gh: Github, repository: str, limit: int = 10) -> list[int]:
    """The numbers of a repository's newest open PRs (one page, newest first)."""
    _, data = gh.requester.requestJsonAndCheck(
        "GET", f"/repos/{repository}/pulls",
        parameters={"state": "open", "sort": "created", "direction": "desc", "per_page": limit},
    )
    return [int(item["number"]) for item in data or ()][:limit]


def list_pull_request_files(gh: Github, repository: str, number: int) -> list[str]:
    return [item["filename"] for item in list_json(gh, f"/repos/{repository}/pulls/{number}/files")]


def list_review_comments(gh: Github, repository: str, number: int) -> list[dict[str, Any]]:
    return list_json(gh, f"/repos/{repository}/pulls/{number}/comments")


def list_reviews(gh: Github, repository: str, number: int) -> list[dict[str, Any]]:
    return list_json(gh, f"/repos/{repository}/pulls/{number}/reviews")


def list_issue_comments(gh: Github, repository: str, number: int) -> list[dict[str, Any]]:
    return list_json(gh, f"/repos/{repository}/issues/{number}/comments")


def read_history(gh: Github, repository: str, number: int) -> PullRequestHistory:
    return PullRequestHistory(
        review_comments=tuple(list_review_comments(gh, repository, number)),
        reviews=tuple(list_reviews(gh, repository, number)),
        issue_comments=tuple(list_issue_comments(gh, repository, number)),
    )


def read_file(gh: Github, repository: str, path: str, ref: str | None) -> str:
    """A file's text at `ref` (the PR head; None: the default branch), through the contents API."""
    repo = gh.withLazy(True).get_repo(repository)  # lazy: no GET /repos
    contents = repo.get_contents(path) if ref is None else repo.get_contents(path, ref=ref)
    if isinstance(contents, list):
        raise IsADirectoryError(f"{repository}:{path}@{ref} is a directory")
    return contents.decoded_content.decode("utf-8")


def read_file_or_none(gh: Github, repository: str, path: str, ref: str | None) -> str | None:
    """Like `read_file`, but None when the file does not exist at `ref`."""
    try:
        return read_file(gh, repository, path, ref)
    except GithubException as error:
        if error.status == 404:
            return None
        raise


def get_permission(gh: Github, repository: str, login: str) -> str:
    """`login`'s role on the repository: read, triage, write, maintain, admin, or none.

    Read from GitHub's answer by core.permissions.permission_from_response, as the service does.
    """
    try:
        _, data = gh.requester.requestJsonAndCheck("GET", f"/repos/{repository}/collaborators/{login}/permission")
    except GithubException as error:
        if error.status == 404:
            return "none"
        raise
    return permission_from_response(data)


def is_org_member(gh: Github, org: str, login: str) -> bool:
    """Whether `login` belongs to the organization `org`: GitHub answers 204 for a member, 404 for
    anyone else (and for a user account), 302 when the App may not see private members."""
    status, _, _ = gh.requester.requestJson("GET", f"/orgs/{org}/members/{login}")
    if status >= 500 or status in (401, 403, 429):
        raise GithubException(status, None, None)
    return status == 204


# --- writing comments ------------------------------------------------------------------------


def create_issue_comment(gh: Github, repository: str, number: int, body: str) -> dict[str, Any]:
    _, data = gh.requester.requestJsonAndCheck(
        "POST", f"/repos/{repository}/issues/{number}/comments", input={"body": body}
    )
    return data


def delete_issue_comment(gh: Github, repository: str, comment_id: int) -> bool:
    """Delete; False when it was already gone (another scheduler got there first)."""
    try:
        gh.requester.requestJsonAndCheck("DELETE", f"/repos/{repository}/issues/comments/{comment_id}")
    except GithubException as error:
        if error.status == 404:
            return False
        raise
    return True


def minimize_comment(gh: Github, node_id: str, classifier: str = "OUTDATED") -> bool:
    """Collapse a comment (GraphQL `minimizeComment`; REST has no equivalent).

    PyGithub derives the GraphQL URL from the base URL (`.../api/v3` -> `.../api/graphql`,
    otherwise `<base>/graphql`), so this also reaches GitHub Enterprise and the local hub.
    """
    _, payload = gh.requester.graphql_named_mutation(
        mutation_name="minimizeComment",
        mutation_input={"subjectId": node_id, "classifier": classifier},
        output_schema="minimizedComment { isMinimized }",
    )
    minimized = (payload or {}).get("minimizedComment") or {}
    return minimized.get("isMinimized") is True


# --- the weekly digest comment ---------------------------------------------------------------


@dataclass(frozen=True)
class PublishOutcome:
    posted: PostedDigest | None  # the comment this run created and kept; None if it posted nothing
    kept: PostedDigest | None  # this week's digest as it stands on the PR after the run
    removed_duplicates: tuple[int, ...]  # this week's extra copies deleted by this run
    minimized: tuple[int, ...]  # earlier digests collapsed by this run


def publish_digest(gh: Github, repository: str, number: int, markdown: str, look: DigestLook) -> PublishOutcome:
    """Carry out the publish decision (`bot.core.digest_publication`) on issue or PR `number`:
    post when the look says so, then delete and minimize what the second look names."""
    if not look.should_post:
        return PublishOutcome(posted=None, kept=look.this_week, removed_duplicates=(), minimized=())
    created = create_issue_comment(gh, repository, number, markdown)
    tidy = tidy_after_posting(list_issue_comments(gh, repository, number), look, int(created["id"]))
    removed = tuple(extra.comment_id for extra in tidy.delete if delete_issue_comment(gh, repository, extra.comment_id))
    minimized = tuple(earlier.comment_id for earlier in tidy.minimize if minimize_comment(gh, earlier.node_id))
    return PublishOutcome(posted=tidy.posted, kept=tidy.kept, removed_duplicates=removed, minimized=minimized)
