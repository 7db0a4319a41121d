"""The Git Data API: refs, blobs, trees, commits (multi-file commits for the bot's edits)."""
from __future__ import annotations

import base64
import binascii

from aiohttp import web

from localhub.access import caller_of, hub_of, repo_for
from localhub.errors import GitHubError, not_found, validation_failed
from localhub.git import Signature
from localhub.responses import json_response, read_json, require

routes = web.RouteTableDef()


def _ref_name(request: web.Request) -> str:
    return request.match_info["ref"].removeprefix("refs/").strip("/")


def _branch_of(ref: str) -> str | None:
    return ref[len("heads/"):] if ref.startswith("heads/") else None


@routes.get("/repos/{owner}/{repo}/git/ref/{ref:.+}")
@routes.get("/repos/{owner}/{repo}/git/refs/{ref:.+}")
async def get_ref(request: web.Request) -> web.Response:
    repo = repo_for(request)
    name = _ref_name(request)
    if name not in repo.refs:
        raise not_found()
    return json_response(hub_of(request).payloads.git_ref(repo, name))


@routes.post("/repos/{owner}/{repo}/git/refs")
async def create_ref(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "Reference", "ref", "sha")
    ref = str(body["ref"])
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise GitHubError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    name = ref[len("refs/"):]
    repo = repo_for(request, "push", _branch_of(name))
    if name in repo.refs:
        raise GitHubError(422, "Reference already exists")
    hub.actions.move_ref(repo, name, body["sha"], caller_of(request).login, force=True)
    url = hub.payloads.git_ref(repo, name)
    return json_response(url, status=201, headers={"Location": url["url"]})


@routes.patch("/repos/{owner}/{repo}/git/refs/{ref:.+}")
async def update_ref(request: web.Request) -> web.Response:
    """Move a ref; without `force` only a fast-forward is accepted (else 422)."""
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "Reference", "sha")
    name = _ref_name(request)
    repo = repo_for(request, "push", _branch_of(name))
    if name not in repo.refs:
        raise GitHubError(422, "Reference does not exist")
    hub.actions.move_ref(repo, name, body["sha"], caller_of(request).login, force=bool(body.get("force", False)))
    return json_response(hub.payloads.git_ref(repo, name))


@routes.delete("/repos/{owner}/{repo}/git/refs/{ref:.+}")
async def delete_ref(request: web.Request) -> web.Response:
    name = _ref_name(request)
    repo = repo_for(request, "push", _branch_of(name))
    hub_of(request).actions.delete_ref(repo, name, caller_of(request).login)
    return web.Response(status=204)


@routes.post("/repos/{owner}/{repo}/git/blobs")
async def create_blob(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    if not isinstance(body.get("content"), str):
        raise validation_failed("Blob", "content", "missing_field")
    repo = repo_for(request, "push")
    if body.get("encoding", "utf-8") == "base64":
        try:
            data = base64.b64decode(body["content"])
        except binascii.Error:
            raise validation_failed("Blob", "content", "invalid") from None
    else:
        data = body["content"].encode()
    blob = repo.store.put_blob(data)
    url = f"{hub.payloads.repo_url(repo)}/git/blobs/{blob.sha}"
    return json_response({"url": url, "sha": blob.sha}, status=201, headers={"Location": url})


@routes.get("/repos/{owner}/{repo}/git/blobs/{sha}")
async def get_blob(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    blob = repo.store.blobs.get(request.match_info["sha"])
    if blob is None:
        raise not_found()
    return json_response({"sha": blob.sha, "node_id": "", "size": len(blob.data),
                          "url": f"{hub.payloads.repo_url(repo)}/git/blobs/{blob.sha}",
                          "content": base64.encodebytes(blob.data).decode(), "encoding": "base64"})


@routes.post("/repos/{owner}/{repo}/git/trees")
async def create_tree(request: web.Request) -> web.Response:
    """A tree from entries; with `base_tree` the entries overlay it, without it they are all."""
    hub = hub_of(request)
    body = await read_json(request)
    if not isinstance(body.get("tree"), list):
        raise validation_failed("Tree", "tree", "missing_field")
    repo = repo_for(request, "push")
    store = repo.store
    base = body.get("base_tree")
    if base is not None and base not in store.trees:
        raise GitHubError(422, "Invalid tree info", [f"base_tree {base} is not a tree"])
    changes: dict[str, str | None] = {}
    for entry in body["tree"]:
        path = str(entry.get("path", "")).strip("/")
        if not path:
            raise validation_failed("Tree", "path", "missing_field")
        if "content" in entry and entry.get("sha") is not None:
            raise GitHubError(422, "Invalid tree info", ["Must supply either tree.sha or tree.content, not both"])
        if "content" in entry:
            changes[path] = store.put_blob(str(entry["content"]).encode()).sha
        elif entry.get("sha") is None:
            changes[path] = None
        elif entry.get("type") == "tree" and entry["sha"] in store.trees:
            changes.update({f"{path}/{sub}": sha for sub, sha in store.files(entry["sha"]).items()})
        elif entry["sha"] in store.blobs:
            changes[path] = entry["sha"]
        else:
            raise GitHubError(422, "Invalid tree info", [f"tree.sha {entry['sha']} is not a valid blob"])
    tree = store.tree_with(base, changes)
    payload = hub.payloads.git_tree(repo, tree.sha)
    return json_response(payload, status=201, headers={"Location": payload["url"]})


@routes.get("/repos/{owner}/{repo}/git/trees/{sha}")
async def get_tree(request: web.Request) -> web.Response:
    repo = repo_for(request)
    if request.match_info["sha"] not in repo.store.trees:
        raise not_found()
    return json_response(hub_of(request).payloads.git_tree(repo, request.match_info["sha"]))


def _signature(value: object, fallback: Signature) -> Signature:
    if not isinstance(value, dict):
        return fallback
    return Signature(str(value.get("name", fallback.name)), str(value.get("email", fallback.email)),
                     str(value.get("date") or fallback.date))


@routes.post("/repos/{owner}/{repo}/git/commits")
async def create_commit(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "Commit", "message", "tree")
    repo = repo_for(request, "push")
    store = repo.store
    if body["tree"] not in store.trees:
        raise GitHubError(422, "Tree SHA does not exist")
    parents = [str(p) for p in body.get("parents") or []]
    if any(p not in store.commits for p in parents):
        raise GitHubError(422, "Parent SHA does not exist or is not a commit object")
    login = caller_of(request).login
    default = hub.actions.signature_of(login)
    author = _signature(body.get("author"), default)
    committer = _signature(body.get("committer"), author)
    commit = store.put_commit(body["tree"], parents, str(body["message"]), author, committer, login)
    payload = hub.payloads.git_commit(repo, commit.sha)
    return json_response(payload, status=201, headers={"Location": payload["url"]})


@routes.get("/repos/{owner}/{repo}/git/commits/{sha}")
async def get_commit(request: web.Request) -> web.Response:
    repo = repo_for(request)
    if request.match_info["sha"] not in repo.store.commits:
        raise not_found()
    return json_response(hub_of(request).payloads.git_commit(repo, request.match_info["sha"]))
