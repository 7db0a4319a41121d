"""Pull requests: create/get/list, files, review comments and replies, reviews, reactions."""
from __future__ import annotations

from aiohttp import web

from localhub.access import caller_of, hub_of, may_moderate, repo_for
from localhub.errors import GitHubError, not_found, validation_failed
from localhub.payloads import REACTION_CONTENTS
from localhub.responses import json_response, paginate, read_json, require

routes = web.RouteTableDef()
PULL = "/repos/{owner}/{repo}/pulls/{number:\\d+}"
COMMENT = "/repos/{owner}/{repo}/pulls/comments/{comment_id:\\d+}"


def _number(request: web.Request) -> int:
    return int(request.match_info["number"])


@routes.get("/repos/{owner}/{repo}/pulls")
async def list_pulls(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    wanted = request.query.get("state", "open")
    pulls = [
        pr for (name, _), pr in sorted(hub.state.pulls.items(), key=lambda kv: -kv[0][1])
        if name == repo.full_name and wanted in ("all", hub.state.issues[(name, pr.number)].state)
    ]
    return paginate(request, [hub.payloads.simple_pull_request(pr) for pr in pulls])


@routes.post("/repos/{owner}/{repo}/pulls")
async def create_pull(request: web.Request) -> web.Response:
    """Open a PR; `head` is "branch" or "owner:branch" (a fork), as on GitHub."""
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "PullRequest", "head", "base")
    repo = repo_for(request, "comment")
    head_owner, _, head_ref = str(body["head"]).rpartition(":")
    head_repo = repo
    if head_owner and head_owner.lower() != repo.owner.lower():
        fork = next((r for r in hub.state.repos.values()
                     if r.owner.lower() == head_owner.lower() and r.fork_of == repo.full_name), None)
        if fork is None:
            raise validation_failed("PullRequest", "head", "invalid")
        head_repo = fork
    if not body.get("title") and "issue" not in body:
        raise validation_failed("PullRequest", "title", "missing_field")
    pr = hub.actions.open_pr(repo, head_repo, head_ref, str(body["base"]), str(body.get("title", "")),
                             body.get("body"), caller_of(request).login,
                             bool(body.get("maintainer_can_modify", True)), bool(body.get("draft", False)))
    payload = hub.payloads.pull_request(pr, hub.actions.pr_files(pr))
    return json_response(payload, status=201, headers={"Location": payload["url"]})


@routes.get(PULL)
async def get_pull(request: web.Request) -> web.Response:
    hub = hub_of(request)
    pr = hub.actions.pull(repo_for(request), _number(request))
    return json_response(hub.payloads.pull_request(pr, hub.actions.pr_files(pr)))


@routes.patch(PULL)
async def update_pull(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    repo = repo_for(request, "comment")
    pr = hub.actions.pull(repo, _number(request))
    issue = hub.state.issues[(repo.full_name, pr.number)]
    if not may_moderate(request, repo, issue.user):
        raise GitHubError(403, "Resource not accessible by integration")
    for field in ("title", "body"):
        if field in body:
            setattr(issue, field, body[field])
    if "maintainer_can_modify" in body:
        pr.maintainer_can_modify = bool(body["maintainer_can_modify"])
    if body.get("state") in ("open", "closed"):
        hub.actions.set_issue_state(repo, issue, body["state"], caller_of(request).login)
    return json_response(hub.payloads.pull_request(pr, hub.actions.pr_files(pr)))


@routes.get(PULL + "/files")
async def list_files(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    pr = hub.actions.pull(repo, _number(request))
    head = hub.payloads.head_sha(pr)
    return paginate(request, [hub.payloads.pull_file(repo, head, f) for f in hub.actions.pr_files(pr)])


# -- review comments --------------------------------------------------------------------------


@routes.get(PULL + "/comments")
async def list_review_comments(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    pr = hub.actions.pull(repo, _number(request))
    comments = sorted((c for c in hub.state.review_comments.values()
                       if (c.repo, c.pr_number) == (repo.full_name, pr.number)), key=lambda c: c.id)
    since = request.query.get("since")
    if since:
        comments = [c for c in comments if c.updated_at >= since]
    if request.query.get("sort") and request.query.get("direction") == "desc":
        comments.reverse()
    return paginate(request, [hub.payloads.rest_review_comment(c) for c in comments])


@routes.post(PULL + "/comments")
async def create_review_comment(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    repo = repo_for(request, "comment")
    pr = hub.actions.pull(repo, _number(request))
    login = caller_of(request).login
    if body.get("in_reply_to") is not None:  # GitHub ignores everything else then
        require(body, "PullRequestReviewComment", "body")
        comment = hub.actions.reply(pr, int(body["in_reply_to"]), str(body["body"]), login)
    else:
        require(body, "PullRequestReviewComment", "body", "commit_id", "path")
        if "position" in body and "line" not in body:
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequestReviewComment", "code": "custom",
                              "message": "position is not supported by the local GitHub; use line"}])
        comment = hub.actions.add_review_comment(
            pr, login, str(body["body"]), str(body["path"]), body.get("line"), body.get("side", "RIGHT"),
            body.get("start_line"), body.get("start_side"), str(body["commit_id"]), body.get("subject_type", "line"))
    payload = hub.payloads.rest_review_comment(comment)
    return json_response(payload, status=201, headers={"Location": payload["url"]})


@routes.post(PULL + "/comments/{comment_id:\\d+}/replies")
async def create_reply(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "PullRequestReviewComment", "body")
    repo = repo_for(request, "comment")
    pr = hub.actions.pull(repo, _number(request))
    comment = hub.actions.reply(pr, int(request.match_info["comment_id"]), str(body["body"]),
                                caller_of(request).login)
    payload = hub.payloads.rest_review_comment(comment)
    return json_response(payload, status=201, headers={"Location": payload["url"]})


@routes.get(COMMENT)
async def get_review_comment(request: web.Request) -> web.Response:
    hub = hub_of(request)
    comment = hub.actions.review_comment(repo_for(request), int(request.match_info["comment_id"]))
    return json_response(hub.payloads.rest_review_comment(comment))


@routes.patch(COMMENT)
async def edit_review_comment(request: web.Request) -> web.Response:
    hub = hub_of(request)
    body = await read_json(request)
    require(body, "PullRequestReviewComment", "body")
    repo = repo_for(request, "comment")
    comment = hub.actions.review_comment(repo, int(request.match_info["comment_id"]))
    if not may_moderate(request, repo, comment.user):
        raise GitHubError(403, "Resource not accessible by integration")
    hub.actions.edit_review_comment(repo, comment, str(body["body"]), caller_of(request).login)
    return json_response(hub.payloads.rest_review_comment(comment))


@routes.delete(COMMENT)
async def delete_review_comment(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request, "comment")
    comment = hub.actions.review_comment(repo, int(request.match_info["comment_id"]))
    if not may_moderate(request, repo, comment.user):
        raise GitHubError(403, "Resource not accessible by integration")
    hub.actions.delete_review_comment(repo, comment, caller_of(request).login)
    return web.Response(status=204)


# -- reactions (both comment kinds share these two handlers) ---------------------------------


def _subject(request: web.Request, kind: str) -> tuple[str, int]:
    hub = hub_of(request)
    repo = repo_for(request, "read")
    comment_id = int(request.match_info["comment_id"])
    if kind == "review_comment":
        hub.actions.review_comment(repo, comment_id)
    else:
        hub.actions.issue_comment(repo, comment_id)
    return kind, comment_id


async def list_reactions(request: web.Request, kind: str) -> web.Response:
    hub = hub_of(request)
    subject = _subject(request, kind)
    wanted = request.query.get("content")
    reactions = [r for r in sorted(hub.state.reactions.values(), key=lambda r: r.id)
                 if r.subject == subject and wanted in (None, r.content)]
    return paginate(request, [hub.payloads.reaction(r) for r in reactions])


async def create_reaction(request: web.Request, kind: str) -> web.Response:
    """201 for a new reaction, 200 when this user already reacted so, as on GitHub."""
    hub = hub_of(request)
    body = await read_json(request)
    if body.get("content") not in REACTION_CONTENTS:
        raise validation_failed("Reaction", "content", "invalid" if body.get("content") else "missing_field")
    repo_for(request, "comment")
    reaction, created = hub.actions.react(_subject(request, kind), body["content"], caller_of(request).login)
    return json_response(hub.payloads.reaction(reaction), status=201 if created else 200)


@routes.get(COMMENT + "/reactions")
async def list_review_comment_reactions(request: web.Request) -> web.Response:
    return await list_reactions(request, "review_comment")


@routes.post(COMMENT + "/reactions")
async def create_review_comment_reaction(request: web.Request) -> web.Response:
    return await create_reaction(request, "review_comment")


# -- reviews ----------------------------------------------------------------------------------


@routes.get(PULL + "/reviews")
async def list_reviews(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    pr = hub.actions.pull(repo, _number(request))
    reviews = sorted((r for r in hub.state.reviews.values() if (r.repo, r.pr_number) == (repo.full_name, pr.number)),
                     key=lambda r: r.id)
    return paginate(request, [hub.payloads.review(r) for r in reviews])


@routes.get(PULL + "/reviews/{review_id:\\d+}")
async def get_review(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = repo_for(request)
    review = hub.state.reviews.get(int(request.match_info["review_id"]))
    if review is None or (review.repo, review.pr_number) != (repo.full_name, _number(request)):
        raise not_found()
    return json_response(hub.payloads.review(review))


@routes.post(PULL + "/reviews")
async def create_review(request: web.Request) -> web.Response:
    """Submit a review at once (`event` given); pending reviews are not modelled."""
    hub = hub_of(request)
    body = await read_json(request)
    repo = repo_for(request, "comment")
    pr = hub.actions.pull(repo, _number(request))
    if not body.get("event"):
        raise GitHubError(422, "Unprocessable Entity", ["Pending reviews are not supported by the local GitHub; pass event"])
    review = hub.actions.submit_review(pr, caller_of(request).login, body.get("body"), str(body["event"]),
                                       body.get("comments"), body.get("commit_id"))
    return json_response(hub.payloads.review(review))
