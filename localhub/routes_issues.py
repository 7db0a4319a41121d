"""Issues (a PR number works too), labels, issue comments and their reactions."""
from __future__ import annotations

from aiohttp import web

from localhub.access import caller_of, hub_of, may_moderate, repo_for
from localhub.errors import GitHubError
from localhub.responses import json_response, paginate, read_json, require
from localhub.routes_pulls import create_reaction, list_reactions

routes = web.RouteTableDef()
ISSUE = "/repos/{owner}/{repo}/issues/{number:\\d+}"
COMMENT = "/repos/{owner}/{repo}/issues/comments/{comment_id:\\d+}"


def _number(request: web.Request) -> int:
    return int(request.match_info["number"])


@routes.post("/repos/{owner}/{repo}/issues")
async def create_issue(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "Issue", "title")
    repo = repo_for(request, "comment")
    issue = hub.actions.create_issue(repo, str(body["title"]), body.get("body"), caller_of(request).login,
                                     body.get("labels"))
    payload = hub.payloads.issue(issue)
    return json_response(payload, status=201, headers={"Location": payload["url"]})


@routes.get("/repos/{owner}/{repo}/issues")
async def list_issues(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    wanted = request.query.get("state", "open")
    issues = [i for (name, _), i in sorted(hub.state.issues.items(), key=lambda kv: -kv[0][1])
              if name == repo.full_name and wanted in ("all", i.state)]
    return paginate(request, [hub.payloads.issue(i) for i in issues])


@routes.get(ISSUE)
async def get_issue(request: web.Request) -> web.Response:
    hub = hub_of(request)
    return json_response(hub.payloads.issue(hub.actions.issue(repo_for(request), _number(request))))


@routes.patch(ISSUE)
async def update_issue(request: web.Request) -> web.Response:
    """Edit title/body, replace labels, or close/reopen (`state`, `state_reason`)."""
    hub = hub_of(request)
    body = await read_json(request)
    repo = repo_for(request, "comment")
    issue = hub.actions.issue(repo, _number(request))
    if not may_moderate(request, repo, issue.user):
        raise GitHubError(403, "Resource not accessible by integration")
    login = caller_of(request).login
    for field in ("title", "body"):
        if field in body:
            setattr(issue, field, body[field])
    if isinstance(body.get("labels"), list):
        issue.labels = [label for label in issue.labels if label.name in body["labels"]]
        hub.actions.add_labels(repo, issue, [str(name) for name in body["labels"]], login)
    if body.get("state") in ("open", "closed"):
        hub.actions.set_issue_state(repo, issue, body["state"], login, body.get("state_reason"))
    return json_response(hub.payloads.issue(issue))


@routes.post(ISSUE + "/labels")
async def add_labels(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    names = body.get("labels")
    if not isinstance(names, list):
        raise GitHubError(422, "Invalid request.\n\n\"labels\" wasn't supplied.")
    repo = repo_for(request, "push")
    issue = hub.actions.issue(repo, _number(request))
    hub.actions.add_labels(repo, issue, [str(n) for n in names], caller_of(request).login)
    return json_response([hub.payloads.label(repo, label) for label in issue.labels])


@routes.get(ISSUE + "/comments")
async def list_comments(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    issue = hub.actions.issue(repo, _number(request))
    comments = sorted((c for c in hub.state.issue_comments.values()
                       if (c.repo, c.issue_number) == (repo.full_name, issue.number)), key=lambda c: c.id)
    since = request.query.get("since")
    if since:
        comments = [c for c in comments if c.updated_at >= since]
    return paginate(request, [hub.payloads.issue_comment(c) for c in comments])


@routes.post(ISSUE + "/comments")
async def create_comment(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "IssueComment", "body")
    repo = repo_for(request, "comment")
    caller = caller_of(request)
    comment = hub.actions.create_issue_comment(repo, _number(request), str(body["body"]), caller.login,
                                               via_app=caller.app_id if caller.kind == "installation" else None)
    payload = hub.payloads.issue_comment(comment)
    return json_response(payload, status=201, headers={"Location": payload["url"]})


@routes.get(COMMENT)
async def get_comment(request: web.Request) -> web.Response:
    hub = hub_of(request)
    comment = hub.actions.issue_comment(repo_for(request), int(request.match_info["comment_id"]))
    return json_response(hub.payloads.issue_comment(comment))


@routes.patch(COMMENT)
async def edit_comment(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "IssueComment", "body")
    repo = repo_for(request, "comment")
    comment = hub.actions.issue_comment(repo, int(request.match_info["comment_id"]))
    if not may_moderate(request, repo, comment.user):
        raise GitHubError(403, "Resource not accessible by integration")
    hub.actions.edit_issue_comment(repo, comment, str(body["body"]), caller_of(request).login)
    return json_response(hub.payloads.issue_comment(comment))


@routes.delete(COMMENT)
async def delete_comment(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request, "comment")
    comment = hub.actions.issue_comment(repo, int(request.match_info["comment_id"]))
    if not may_moderate(request, repo, comment.user):
        raise GitHubError(403, "Resource not accessible by integration")
    hub.actions.delete_issue_comment(repo, comment, caller_of(request).login)
    return web.Response(status=204)


@routes.get(COMMENT + "/reactions")
async def list_comment_reactions(request: web.Request) -> web.Response:
    return await list_reactions(request, "issue_comment")


@routes.post(COMMENT + "/reactions")
async def create_comment_reaction(request: web.Request) -> web.Response:
    return await create_reaction(request, "issue_comment")
