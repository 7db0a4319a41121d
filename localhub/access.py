"""Who may read or write a repository, decided as GitHub decides it for Apps and users."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from localhub.auth import Caller
from localhub.errors import GitHubError, not_found
from localhub.state import Repo

if TYPE_CHECKING:
    from localhub.server import LocalHub

HUB_KEY: web.AppKey[LocalHub] = web.AppKey("localhub", object)  # type: ignore[arg-type]  # `object`: importing LocalHub here would be circular
CALLER_KEY: web.RequestKey[Caller] = web.RequestKey("caller", Caller)


def hub_of(request: web.Request) -> LocalHub:
    return request.app[HUB_KEY]


def caller_of(request: web.Request) -> Caller:
    return request[CALLER_KEY]


def _in_installation(hub: LocalHub, caller: Caller, repo: Repo) -> bool:
    installation = hub.state.installations.get(caller.installation_id or 0)
    return installation is not None and hub.state.installation_for(repo) is installation


def _maintainer_may_push(hub: LocalHub, caller: Caller, repo: Repo, branch: str | None) -> bool:
    """A fork's PR head branch is writable by the base repo's App when maintainers may modify."""
    for pr in hub.state.pulls.values():
        base = hub.state.repo_named(pr.repo)
        if (pr.head_repo == repo.full_name and branch in (None, pr.head_ref) and pr.maintainer_can_modify
                and _in_installation(hub, caller, base)
                and hub.state.issues[(pr.repo, pr.number)].state == "open"):
            return True
    return False


def repo_for(request: web.Request, need: str = "read", branch: str | None = None) -> Repo:
    """The repository in the URL, if the caller may `need` it ("read", "comment", "push").

    Installations read any public repo but write only where installed (or to a fork's PR
    head when maintainers may modify); users need push permission to push. A private repo
    the caller cannot see is a 404, not a 403, as on GitHub.
    """
    hub = hub_of(request)
    caller = caller_of(request)
    repo = hub.state.repo(request.match_info["owner"], request.match_info["repo"])
    if repo is None:
        raise not_found()
    if caller.kind == "installation":
        installed = _in_installation(hub, caller, repo)
        if repo.private and not installed:
            raise not_found()
        if need != "read" and not installed and not (need == "push" and _maintainer_may_push(hub, caller, repo, branch)):
            raise GitHubError(403, "Resource not accessible by integration",
                              headers={"X-Accepted-GitHub-Permissions": "contents=write" if need == "push" else "pull_requests=write; issues=write"})
        return repo
    level = hub.state.permission(repo, caller.login)
    if level == "none":
        raise not_found()
    if need == "push" and level not in ("write", "admin"):
        raise GitHubError(403, f"Permission to {repo.full_name}.git denied to {caller.login}.")
    return repo


def may_moderate(request: web.Request, repo: Repo, author: str) -> bool:
    """Edit/delete someone's comment, close an issue: its author or a writer."""
    caller = caller_of(request)
    if caller.login == author:
        return True
    if caller.kind == "installation":
        return _in_installation(hub_of(request), caller, repo)
    return hub_of(request).state.permission(repo, caller.login) in ("write", "admin")
