"""POST /graphql: review threads (query, resolve/unresolve, reply) and minimizing comments."""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from aiohttp import web

from localhub.access import caller_of, hub_of
from localhub.auth import Caller
from localhub.graphql_lang import GraphQLFieldError, Resolved, execute
from localhub.payloads import node_id, parse_node_id
from localhub.responses import json_response, read_json
from localhub.state import IssueComment, PullRequest, Repo, ReviewComment, Thread

if TYPE_CHECKING:
    from localhub.server import LocalHub

routes = web.RouteTableDef()
CLASSIFIERS = ("ABUSE", "DUPLICATE", "OFF_TOPIC", "OUTDATED", "RESOLVED", "SPAM")


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _connection(items: list[Resolved], first: int | None = None, after: str | None = None,
                last: int | None = None) -> Resolved:
    """A relay connection (nodes, edges, pageInfo, totalCount) over `items`."""
    start = int(base64.b64decode(after).decode().rsplit(":", 1)[1]) + 1 if after else 0
    window = items[start:]
    if first is not None:
        window = window[:first]
    elif last is not None:
        window, start = window[-last:], start + max(0, len(window) - last)
    end = start + len(window) - 1
    return {
        "__typename": "Connection",
        "totalCount": len(items),
        "nodes": window,
        "edges": [{"__typename": "Edge", "cursor": _cursor(start + i), "node": n} for i, n in enumerate(window)],
        "pageInfo": {"__typename": "PageInfo", "hasNextPage": end < len(items) - 1, "hasPreviousPage": start > 0,
                     "startCursor": _cursor(start) if window else None, "endCursor": _cursor(end) if window else None},
    }


class Resolvers:
    """Builds the resolvable objects for one request."""

    def __init__(self, hub: LocalHub, caller: Caller) -> None:
        self.hub, self.caller, self.state = hub, caller, hub.state

    def actor(self, login: str | None) -> Resolved | None:
        if login is None:
            return None
        user = self.state.user(login)
        return {"__typename": "Bot" if user.type == "Bot" else "User", "login": login,
                "id": node_id("U", user.id), "url": f"{self.hub.payloads.web}/{login}"}

    def repository(self, repo: Repo) -> Resolved:
        def pull_request(number: int) -> Resolved:
            pr = self.state.pulls.get((repo.full_name, number))
            if pr is None:
                raise GraphQLFieldError(f"Could not resolve to a PullRequest with the number of {number}.")
            return self.pull_request(pr)

        return {"__typename": "Repository", "id": node_id("R", repo.id), "name": repo.name,
                "nameWithOwner": repo.full_name, "pullRequest": pull_request}

    def pull_request(self, pr: PullRequest) -> Resolved:
        issue = self.state.issues[(pr.repo, pr.number)]
        threads = sorted((t for t in self.state.threads.values() if (t.repo, t.pr_number) == (pr.repo, pr.number)),
                         key=lambda t: t.id)
        return {"__typename": "PullRequest", "id": node_id("PR", pr.id), "number": pr.number, "title": issue.title,
                "state": issue.state.upper(), "url": f"{self.hub.payloads.web}/{pr.repo}/pull/{pr.number}",
                "reviewThreads": lambda first=None, after=None, last=None: _connection(
                    [self.thread(t) for t in threads], first, after, last)}

    def thread(self, thread: Thread) -> Resolved:
        root = self.state.review_comments.get(thread.root_comment_id)
        comments = sorted((c for c in self.state.review_comments.values()
                           if c.id == thread.root_comment_id or c.in_reply_to_id == thread.root_comment_id),
                          key=lambda c: c.id)
        line = root.line if root else None
        return {
            "__typename": "PullRequestReviewThread", "id": node_id("PRRT", thread.id),
            "isResolved": thread.resolved, "isOutdated": root is not None and root.line is None,
            "isCollapsed": thread.resolved, "path": root.path if root else None, "line": line,
            "originalLine": root.original_line if root else None,
            "startLine": root.start_line if root else None,
            "originalStartLine": root.original_start_line if root else None,
            "diffSide": root.side if root else "RIGHT", "startDiffSide": root.start_side if root else None,
            "subjectType": (root.subject_type if root else "line").upper(),
            "resolvedBy": self.actor(thread.resolved_by),
            "viewerCanResolve": True, "viewerCanUnresolve": True, "viewerCanReply": True,
            "pullRequest": lambda: self.pull_request(self.state.pulls[(thread.repo, thread.pr_number)]),
            "comments": lambda first=None, after=None, last=None: _connection(
                [self.review_comment(c) for c in comments], first, after, last),
        }

    def _minimizable(self, comment: IssueComment | ReviewComment) -> Resolved:
        return {"isMinimized": comment.minimized_reason is not None,
                "minimizedReason": comment.minimized_reason.lower() if comment.minimized_reason else None,
                "viewerCanMinimize": True}

    def review_comment(self, comment: ReviewComment) -> Resolved:
        rest = self.hub.payloads.review_comment(comment)
        return {
            "__typename": "PullRequestReviewComment", "id": rest["node_id"], "databaseId": comment.id,
            "fullDatabaseId": str(comment.id), "body": comment.body, "author": self.actor(comment.user),
            "authorAssociation": rest["author_association"], "path": comment.path, "line": comment.line,
            "originalLine": comment.original_line, "createdAt": comment.created_at, "updatedAt": comment.updated_at,
            "url": rest["html_url"], "outdated": comment.line is None,
            "replyTo": (self.review_comment(self.state.review_comments[comment.in_reply_to_id])
                        if comment.in_reply_to_id in self.state.review_comments else None),
            **self._minimizable(comment),
        }

    def issue_comment(self, comment: IssueComment) -> Resolved:
        rest = self.hub.payloads.issue_comment(comment)
        return {"__typename": "IssueComment", "id": rest["node_id"], "databaseId": comment.id,
                "fullDatabaseId": str(comment.id), "body": comment.body, "author": self.actor(comment.user),
                "url": rest["html_url"], "createdAt": comment.created_at, **self._minimizable(comment)}

    def node(self, id: str) -> Resolved:  # noqa: A002 - GraphQL's argument name
        parsed = parse_node_id(str(id))
        kind, number = parsed if parsed else ("", 0)
        if kind == "PRRT" and number in self.state.threads:
            return self.thread(self.state.threads[number])
        if kind == "PRRC" and number in self.state.review_comments:
            return self.review_comment(self.state.review_comments[number])
        if kind == "IC" and number in self.state.issue_comments:
            return self.issue_comment(self.state.issue_comments[number])
        raise GraphQLFieldError(f"Could not resolve to a node with the global id of '{id}'")

    def _check_write(self, repo: Repo) -> None:
        if self.caller.kind == "installation":
            installation = self.state.installations.get(self.caller.installation_id or 0)
            if self.state.installation_for(repo) is not installation:
                raise GraphQLFieldError("Resource not accessible by integration", "FORBIDDEN")
        elif self.state.permission(repo, self.caller.login) not in ("write", "admin"):
            raise GraphQLFieldError(f"{self.caller.login} does not have the correct permissions to execute this",
                                    "FORBIDDEN")

    # -- roots ----------------------------------------------------------------------------

    def query(self) -> Resolved:
        def repository(owner: str, name: str) -> Resolved:
            repo = self.state.repo(owner, name)
            if repo is None:
                raise GraphQLFieldError(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
            return self.repository(repo)

        return {"__typename": "Query", "repository": repository, "node": self.node,
                "viewer": self.actor(self.caller.login)}

    def mutation(self) -> Resolved:
        def set_resolved(resolved: bool) -> Any:
            def mutate(input: dict[str, Any]) -> Resolved:  # noqa: A002
                target = self.node(input.get("threadId", ""))
                if target["__typename"] != "PullRequestReviewThread":
                    raise GraphQLFieldError(f"Could not resolve to a node with the global id of '{input.get('threadId')}'")
                kind_number = parse_node_id(input["threadId"])
                assert kind_number is not None
                thread = self.state.threads[kind_number[1]]
                self._check_write(self.state.repo_named(thread.repo))
                self.hub.actions.set_thread_resolved(thread, resolved, self.caller.login)
                return {"clientMutationId": input.get("clientMutationId"), "thread": self.thread(thread)}
            return mutate

        def minimize(input: dict[str, Any]) -> Resolved:  # noqa: A002
            return self._set_minimized(input, input.get("classifier"))

        def unminimize(input: dict[str, Any]) -> Resolved:  # noqa: A002
            return self._set_minimized(input, None)

        def reply(input: dict[str, Any]) -> Resolved:  # noqa: A002
            parsed = parse_node_id(str(input.get("pullRequestReviewThreadId", "")))
            if not parsed or parsed[0] != "PRRT" or parsed[1] not in self.state.threads:
                raise GraphQLFieldError("Could not resolve to a node with the global id of "
                                        f"'{input.get('pullRequestReviewThreadId')}'")
            thread = self.state.threads[parsed[1]]
            pr = self.state.pulls[(thread.repo, thread.pr_number)]
            comment = self.hub.actions.reply(pr, thread.root_comment_id, str(input.get("body", "")), self.caller.login)
            return {"clientMutationId": input.get("clientMutationId"), "comment": self.review_comment(comment)}

        return {"__typename": "Mutation", "resolveReviewThread": set_resolved(True),
                "unresolveReviewThread": set_resolved(False), "minimizeComment": minimize,
                "unminimizeComment": unminimize, "addPullRequestReviewThreadReply": reply}

    def _set_minimized(self, input: dict[str, Any], classifier: str | None) -> Resolved:  # noqa: A002
        if classifier is not None and classifier not in CLASSIFIERS:
            raise GraphQLFieldError(f"Argument 'classifier' has an invalid value ({classifier}).", "INVALID")
        self.node(input.get("subjectId", ""))  # NOT_FOUND for unknown ids, as GitHub
        parsed = parse_node_id(input["subjectId"])
        assert parsed is not None
        comment: IssueComment | ReviewComment = (
            self.state.issue_comments[parsed[1]] if parsed[0] == "IC" else self.state.review_comments[parsed[1]])
        self._check_write(self.state.repo_named(comment.repo))
        comment.minimized_reason = classifier
        node = self.issue_comment(comment) if parsed[0] == "IC" else self.review_comment(comment)  # type: ignore[arg-type]  # the "IC" prefix says which kind it is
        key = "minimizedComment" if classifier is not None else "unminimizedComment"
        return {"clientMutationId": input.get("clientMutationId"), key: node}


@routes.post("/graphql")
async def graphql(request: web.Request) -> web.Response:
    body = await read_json(request)
    resolvers = Resolvers(hub_of(request), caller_of(request))
    result = execute(str(body.get("query", "")), body.get("variables"),
                     lambda kind: resolvers.mutation() if kind == "mutation" else resolvers.query())
    return json_response(result)
