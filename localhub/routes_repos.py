"""Repositories: metadata, the contents API, collaborator permission, users."""
from __future__ import annotations

import base64
import binascii

from aiohttp import web

from localhub.access import caller_of, hub_of, repo_for
from localhub.errors import GitHubError, not_found
from localhub.responses import json_response, paginate, read_json, require

routes = web.RouteTableDef()


@routes.get("/repos/{owner}/{repo}")
async def get_repository(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    caller = caller_of(request)
    if caller.kind == "installation":
        installation = hub.state.installations.get(caller.installation_id or 0)
        level = "write" if hub.state.installation_for(repo) is installation else "read"
    else:
        level = hub.state.permission(repo, caller.login)
    return json_response(hub.payloads.full_repository(repo, level))


@routes.get("/users/{login}")
async def get_user(request: web.Request) -> web.Response:
    hub = hub_of(request)
    if request.match_info["login"] not in hub.state.users:
        raise not_found()
    return json_response(hub.payloads.user(request.match_info["login"]))


@routes.get("/repos/{owner}/{repo}/collaborators/{username}/permission")
async def collaborator_permission(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    login = request.match_info["username"]
    if login not in hub.state.users:
        raise not_found()
    role = hub.state.role(repo, login)
    user = {**hub.payloads.user(login), "permissions": hub.payloads.permissions(role), "role_name": role}
    return json_response({"permission": hub.state.permission(repo, login), "role_name": role, "user": user})


def _resolve_ref(request: web.Request, ref: str | None) -> tuple[str, str]:
    """(ref name as given, commit sha) for a branch, tag or commit sha; default branch if None."""
    repo = repo_for(request)
    name = ref or repo.default_branch
    for candidate in (f"heads/{name}", f"tags/{name}", name.removeprefix("refs/")):
        if candidate in repo.refs:
            return name, repo.refs[candidate]
    if name in repo.store.commits:
        return name, name
    raise GitHubError(404, f"No commit found for the ref {name}")


@routes.get("/repos/{owner}/{repo}/contents/{path:.*}")
async def get_contents(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    ref, sha = _resolve_ref(request, request.query.get("ref"))
    path = request.match_info["path"].strip("/")
    entry = repo.store.entry_at(repo.store.commits[sha].tree, path)
    if entry is None:
        raise not_found()
    if entry.type == "blob":
        return json_response(hub.payloads.content_file(repo, path, entry.sha, ref))
    listing = [
        hub.payloads.content_dir_entry(repo, f"{path}/{child.path}".lstrip("/"), child, ref)
        for child in repo.store.trees[entry.sha].entries
    ]
    return json_response(listing)


def _decode_content(text: str) -> str:
    try:
        return base64.b64decode(text, validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise GitHubError(422, "content is not valid Base64") from None


@routes.put("/repos/{owner}/{repo}/contents/{path:.+}")
async def put_contents(request: web.Request) -> web.Response:
    """Create or update one file. Updating needs the current blob `sha` (missing → 422,
    stale → 409), the optimistic lock GitHub uses."""
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "Contents", "message")
    if "content" not in body:
        raise GitHubError(422, 'Invalid request.\n\n"content" wasn\'t supplied.')
    repo = repo_for(request)
    branch = body.get("branch") or repo.default_branch
    repo = repo_for(request, "push", branch)
    path = request.match_info["path"].strip("/")
    if f"heads/{branch}" not in repo.refs:
        raise GitHubError(404, f"Branch {branch} not found")
    head = repo.refs[f"heads/{branch}"]
    current = repo.store.entry_at(repo.store.commits[head].tree, path)
    if current is not None:
        if not body.get("sha"):
            raise GitHubError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if body["sha"] != current.sha:
            raise GitHubError(409, f"{path} does not match {body['sha']}")
    text = _decode_content(body["content"])
    commit = hub.actions.commit_files(repo, branch, {path: text}, body["message"], caller_of(request).login,
                                      expected_parent=head)
    blob = repo.store.entry_at(repo.store.commits[commit.sha].tree, path)
    assert blob is not None
    return json_response(
        {"content": hub.payloads.content_file(repo, path, blob.sha, branch, with_content=False),
         "commit": hub.payloads.git_commit(repo, commit.sha)},
        status=200 if current is not None else 201,
    )


@routes.delete("/repos/{owner}/{repo}/contents/{path:.+}")
async def delete_contents(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "Contents", "message", "sha")
    repo = repo_for(request)
    branch = body.get("branch") or repo.default_branch
    repo = repo_for(request, "push", branch)
    path = request.match_info["path"].strip("/")
    head = repo.refs.get(f"heads/{branch}")
    current = repo.store.entry_at(repo.store.commits[head].tree, path) if head else None
    if current is None:
        raise not_found()
    if body["sha"] != current.sha:
        raise GitHubError(409, f"{path} does not match {body['sha']}")
    commit = hub.actions.commit_files(repo, branch, {path: None}, body["message"], caller_of(request).login,
                                      expected_parent=head)
    return json_response({"content": None, "commit": hub.payloads.git_commit(repo, commit.sha)})


@routes.get("/repos/{owner}/{repo}/branches/{branch:.+}")
async def get_branch(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    branch = request.match_info["branch"]
    sha = repo.refs.get(f"heads/{branch}")
    if sha is None:
        raise GitHubError(404, "Branch not found")
    commit = hub.payloads.git_commit(repo, sha)
    return json_response({"name": branch, "commit": {"sha": sha, "url": commit["url"], "commit": commit},
                          "protected": False,
                          "_links": {"self": f"{hub.payloads.repo_url(repo)}/branches/{branch}",
                                     "html": f"{hub.payloads.web}/{repo.full_name}/tree/{branch}"}})


@routes.get("/repos/{owner}/{repo}/branches")
async def list_branches(request: web.Request) -> web.Response:
    repo = repo_for(request)
    base = hub_of(request).payloads.repo_url(repo)
    items = [{"name": ref[len("heads/"):], "commit": {"sha": sha, "url": f"{base}/commits/{sha}"}, "protected": False}
             for ref, sha in sorted(repo.refs.items()) if ref.startswith("heads/")]
    return paginate(request, items)


@routes.get("/orgs/{org}/members/{username}")
async def org_membership(request: web.Request) -> web.Response:
    """204 when the user is a member of the organisation, 404 otherwise (as GitHub answers a
    requester allowed to see private membership, e.g. an App with members: read)."""
    hub = hub_of(request)
    caller_of(request)  # authenticated callers only
    org = hub.state.orgs.get(request.match_info["org"])
    if org is None or request.match_info["username"] not in org.members:
        raise not_found()
    return web.Response(status=204)
