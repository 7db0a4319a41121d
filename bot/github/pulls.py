"""The REST and GraphQL calls the App's workflow makes, over the service's gidgethub client.

Each function is one GitHub operation with the look-first rule built in where it matters
(notices and follow-up issues are found by their hidden markers before anything is written).
Callers pass plain values and get plain JSON back; no workflow decisions are made here.
"""
from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest

from bot.core.permissions import permission_from_response
from bot.github.client import GitHubClient

PER_PAGE = 100


class NotFastForward(Exception):
    """The branch moved while we were committing: re-plan on the new head and try again."""


class CannotPush(Exception):
    """The App may not write to the PR's head branch (e.g. a fork without maintainer edits)."""


class NotText(ValueError):
    """The file is not UTF-8 text."""

    def __init__(self, path: str, sha: str) -> None:
        super().__init__(f"{path} is not UTF-8 text")
        self.sha = sha


class FileChanged(Exception):
    """GitHub refused a write naming a blob: the file moved on, or the branch moved under the
    write ("is at … but expected …"); the message says which, the caller checks."""

    def __init__(self, path: str, message: str = "") -> None:
        super().__init__(f"{path}: {message}" if message else path)
        self.path = path


class BranchMissing(Exception):
    """The branch to write on does not exist (yet)."""


@dataclass(frozen=True)
class FileAtRef:
    path: str
    text: str
    sha: str  # the blob sha


# --------------------------------------------------------------------------- reading


async def get_pull(gh: GitHubClient, repo: str, number: int) -> dict[str, Any]:
    return await gh.getitem(f"/repos/{repo}/pulls/{number}")


async def list_pull_files(gh: GitHubClient, repo: str, number: int) -> list[str]:
    return [item["filename"] async for item in gh.getiter(f"/repos/{repo}/pulls/{number}/files?per_page={PER_PAGE}")]


async def read_file(gh: GitHubClient, repo: str, path: str, ref: str | None = None) -> FileAtRef | None:
    """The file at `ref` (the default branch when None), or None when it is not there."""
    query = f"?ref={quote(ref, safe='')}" if ref else ""
    content = await _get_or_none(gh, f"/repos/{repo}/contents/{quote(path)}{query}")
    if not isinstance(content, dict) or content.get("type", "file") != "file":
        return None
    try:
        text = base64.b64decode(content.get("content", "")).decode("utf-8")
    except UnicodeDecodeError:
        raise NotText(path, str(content["sha"])) from None
    return FileAtRef(path=path, text=text, sha=content["sha"])


async def list_folder(gh: GitHubClient, repo: str, path: str, ref: str) -> dict[str, str] | None:
    """File name -> blob sha of the files directly in `path` at `ref`; None when the folder
    (or the ref) is not there."""
    listing = await _get_or_none(gh, f"/repos/{repo}/contents/{quote(path)}?ref={quote(ref, safe='')}")
    if not isinstance(listing, list):
        return None
    return {str(item["name"]): str(item["sha"]) for item in listing if item.get("type") == "file"}


async def get_review_comment(gh: GitHubClient, repo: str, comment_id: int) -> dict[str, Any] | None:
    return await _get_or_none(gh, f"/repos/{repo}/pulls/comments/{comment_id}")


async def get_comment(gh: GitHubClient, repo: str, number: int, kind: str, comment_id: int) -> dict[str, Any] | None:
    """One comment of a PR as GitHub holds it now (review comment, conversation comment or review)."""
    urls = {
        "review_comment": f"/repos/{repo}/pulls/comments/{comment_id}",
        "issue_comment": f"/repos/{repo}/issues/comments/{comment_id}",
        "review": f"/repos/{repo}/pulls/{number}/reviews/{comment_id}",
    }
    return await _get_or_none(gh, urls[kind])


async def _get_or_none(gh: GitHubClient, url: str) -> Any:
    """GET `url`; None when GitHub answers 404 (it is not there, or not visible to the App)."""
    try:
        return await gh.getitem(url)
    except BadRequest as error:
        if error.status_code == 404:
            return None
        raise


async def permission_of(gh: GitHubClient, repo: str, login: str) -> str:
    """The collaborator's permission: admin, maintain, write, triage, read or none."""
    try:
        answer = await gh.getitem(f"/repos/{repo}/collaborators/{quote(login)}/permission")
    except BadRequest as error:
        if error.status_code == 404:
            return "none"
        raise
    return permission_from_response(answer)


async def list_comments(gh: GitHubClient, repo: str, number: int, kind: str) -> list[dict[str, Any]]:
    """A PR's review comments, issue comments or reviews, 100 a page."""
    paths = {
        "review_comment": f"/repos/{repo}/pulls/{number}/comments",
        "issue_comment": f"/repos/{repo}/issues/{number}/comments",
        "review": f"/repos/{repo}/pulls/{number}/reviews",
    }
    return [item async for item in gh.getiter(f"{paths[kind]}?per_page={PER_PAGE}")]


async def list_reactions(gh: GitHubClient, repo: str, comment_id: int, *, review_comment: bool) -> list[dict[str, Any]]:
    kind = "pulls/comments" if review_comment else "issues/comments"
    return [item async for item in gh.getiter(f"/repos/{repo}/{kind}/{comment_id}/reactions?per_page={PER_PAGE}")]


# --------------------------------------------------------------------------- comments


async def reply_in_thread(gh: GitHubClient, repo: str, number: int, root_comment_id: int, body: str) -> dict[str, Any]:
    return await gh.post(f"/repos/{repo}/pulls/{number}/comments/{root_comment_id}/replies", data={"body": body})


async def edit_review_comment(gh: GitHubClient, repo: str, comment_id: int, body: str) -> dict[str, Any]:
    return await gh.patch(f"/repos/{repo}/pulls/comments/{comment_id}", data={"body": body})


async def post_issue_comment(gh: GitHubClient, repo: str, number: int, body: str) -> dict[str, Any]:
    return await gh.post(f"/repos/{repo}/issues/{number}/comments", data={"body": body})


async def edit_issue_comment(gh: GitHubClient, repo: str, comment_id: int, body: str) -> dict[str, Any]:
    return await gh.patch(f"/repos/{repo}/issues/comments/{comment_id}", data={"body": body})


# --------------------------------------------------------------------------- one commit


async def commit_file(
    gh: GitHubClient, repo: str, branch: str, path: str, text: str, message: str, *, parent_sha: str
) -> str:
    """One commit on `branch` replacing `path`, on top of `parent_sha`; returns the new commit sha.

    The ref moves only as a fast-forward from `parent_sha`: if someone pushed meanwhile,
    NotFastForward tells the caller to re-plan on the new head.
    """
    return await commit_files(gh, repo, branch, {path: text}, message, parent_sha=parent_sha)


async def commit_files(
    gh: GitHubClient, repo: str, branch: str, files: dict[str, str], message: str, *, parent_sha: str
) -> str:
    """One commit on `branch` writing every file in `files` (path -> text) on top of `parent_sha`.

    Four calls whatever the number of files (the tree carries their text inline). Fast-forward
    only, as commit_file.
    """
    try:
        parent = await gh.getitem(f"/repos/{repo}/git/commits/{parent_sha}")
        tree = await gh.post(
            f"/repos/{repo}/git/trees",
            data={
                "base_tree": parent["tree"]["sha"],
                "tree": [{"path": path, "mode": "100644", "type": "blob", "content": text} for path, text in files.items()],
            },
        )
        commit = await gh.post(f"/repos/{repo}/git/commits", data={"message": message, "tree": tree["sha"], "parents": [parent_sha]})
    except BadRequest as error:
        if error.status_code in (403, 404):
            raise CannotPush(f"{repo}:{branch}") from error
        raise
    try:
        await gh.patch(f"/repos/{repo}/git/refs/heads/{quote(branch)}", data={"sha": commit["sha"], "force": False})
    except BadRequest as error:
        if error.status_code in (403, 404):
            raise CannotPush(f"{repo}:{branch}") from error
        if error.status_code != 422:
            raise
        # 422 is GitHub's answer both to "not a fast-forward" and to a protected ref: only a head
        # that really moved means re-plan; otherwise retrying cannot help.
        if await branch_head(gh, repo, branch) != parent_sha:
            raise NotFastForward(branch) from error
        raise CannotPush(f"{repo}:{branch}: {error}") from error
    return str(commit["sha"])


async def put_file(
    gh: GitHubClient, repo: str, branch: str, path: str, text: str, message: str, *, known_sha: str | None
) -> tuple[str, str]:
    """Create or replace one file on `branch` (the Contents API); returns (blob sha, commit sha).

    `known_sha` is the blob we last saw there (None: we believe the file is new). GitHub
    refuses the write when the file moved on since — optimistic concurrency — and that comes
    back as FileChanged, so the caller re-reads before writing again.
    """
    data = {"message": message, "content": base64.b64encode(text.encode("utf-8")).decode("ascii"), "branch": branch}
    if known_sha is not None:
        data["sha"] = known_sha
    try:
        answer = await gh.put(f"/repos/{repo}/contents/{quote(path)}", data=data)
    except BadRequest as error:
        if error.status_code == 409 or (error.status_code == 422 and "sha" in str(error)):
            raise FileChanged(path, str(error)) from error
        if error.status_code == 404:
            raise BranchMissing(f"{repo}:{branch}") from error
        if error.status_code == 403:
            raise CannotPush(f"{repo}:{branch}") from error
        raise
    return str(answer["content"]["sha"]), str(answer["commit"]["sha"])


async def default_branch(gh: GitHubClient, repo: str) -> str:
    return str((await gh.getitem(f"/repos/{repo}"))["default_branch"])


async def branch_head(gh: GitHubClient, repo: str, branch: str) -> str:
    ref = await gh.getitem(f"/repos/{repo}/git/ref/heads/{quote(branch)}")
    return str(ref["object"]["sha"])


async def create_branch(gh: GitHubClient, repo: str, branch: str, sha: str) -> None:
    """Create `branch` at `sha`, or leave it if it already exists (a retry)."""
    try:
        await gh.post(f"/repos/{repo}/git/refs", data={"ref": f"refs/heads/{branch}", "sha": sha})
    except BadRequest as error:
        if error.status_code != 422:
            raise


async def open_pull(gh: GitHubClient, repo: str, *, head: str, base: str, title: str, body: str) -> dict[str, Any]:
    """Open a PR, or return the open one with the same head (a retry must not open a second)."""
    owner = repo.split("/")[0]
    head_owner, _, head_branch = head.rpartition(":")
    existing = [item async for item in gh.getiter(f"/repos/{repo}/pulls?state=open&head={quote(head_owner or owner)}:{quote(head_branch)}")]
    if existing:
        return existing[0]
    return await gh.post(f"/repos/{repo}/pulls", data={"head": head, "base": base, "title": title, "body": body})


# --------------------------------------------------------------------------- issues


async def find_issue_with_marker(gh: GitHubClient, repo: str, marker: str, labels: Sequence[str]) -> dict[str, Any] | None:
    """Look first: an issue the bot already opened carries `marker` in its body."""
    label_filter = f"&labels={quote(','.join(labels))}" if labels else ""
    async for issue in gh.getiter(f"/repos/{repo}/issues?state=all&per_page={PER_PAGE}{label_filter}"):
        opened_by_an_app = (issue.get("user") or {}).get("type") == "Bot"
        if opened_by_an_app and marker in (issue.get("body") or "") and "pull_request" not in issue:
            return issue
    return None


async def create_issue(gh: GitHubClient, repo: str, *, title: str, body: str, labels: Sequence[str]) -> dict[str, Any]:
    return await gh.post(f"/repos/{repo}/issues", data={"title": title, "body": body, "labels": list(labels)})


# --------------------------------------------------------------------------- GraphQL

_THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved comments(first: 1) { nodes { databaseId } } }
      }
    }
  }
}
"""

_RESOLVE = "mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } } }"
_MINIMIZE = "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized } } }"


async def review_thread_ids(gh: GitHubClient, repo: str, number: int) -> dict[int, tuple[str, bool]]:
    """First comment's database id -> (thread node id, resolved?) for every review thread."""
    owner, name = repo.split("/", 1)
    found: dict[int, tuple[str, bool]] = {}
    cursor = None
    while True:
        data = await gh.graphql(_THREADS_QUERY, owner=owner, name=name, number=number, cursor=cursor)
        threads = data["repository"]["pullRequest"]["reviewThreads"]
        for node in threads["nodes"]:
            first = node["comments"]["nodes"]
            if first:
                found[int(first[0]["databaseId"])] = (node["id"], bool(node["isResolved"]))
        if not threads["pageInfo"]["hasNextPage"]:
            return found
        cursor = threads["pageInfo"]["endCursor"]


async def resolve_thread(gh: GitHubClient, thread_node_id: str) -> None:
    await gh.graphql(_RESOLVE, id=thread_node_id)


async def minimize_comment(gh: GitHubClient, node_id: str) -> None:
    await gh.graphql(_MINIMIZE, id=node_id)


async def delete_issue_comment(gh: GitHubClient, repo: str, comment_id: int) -> bool:
    """Delete a comment; False when it is already gone (another scheduler got there first)."""
    try:
        await gh.delete(f"/repos/{repo}/issues/comments/{comment_id}")
    except BadRequest as error:
        if error.status_code == 404:
            return False
        raise
    return True


async def is_org_member(gh: GitHubClient, org: str, login: str) -> bool:
    """Whether `login` belongs to the organisation (needs the App's members: read permission)."""
    try:
        await gh.getitem(f"/orgs/{quote(org)}/members/{quote(login)}")
    except BadRequest as error:
        if error.status_code in (302, 404):
            return False
        raise
    return True
