"""GraphQL: finding review threads, resolving them, minimizing comments (gidgethub `graphql`)."""
from __future__ import annotations

import aiohttp
import pytest
from gidgethub import GraphQLAuthorizationFailure, QueryError
from gidgethub.aiohttp import GitHubAPI

from hub_world import MAINTAINER, MEMBER, REPO, SEED_FILES

MODEL = "security/threat-model.md"
THREADS = """
query Threads($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 1, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved path line comments(first: 1) { nodes { databaseId fullDatabaseId author { login } } } }
      }
    }
  }
}"""


@pytest.fixture
async def gh(hub, installation_token):
    token = await installation_token(hub)
    async with aiohttp.ClientSession() as session:
        yield GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url)


def open_pr_with_threads(hub) -> tuple[int, list[int]]:
    text = SEED_FILES[MODEL].replace("Line 4 ", "Line four ").replace("Line 20 ", "Line twenty ")
    hub.push(REPO, "edit", {MODEL: text}, user=MEMBER)
    number = hub.open_pr(REPO, "edit", user=MEMBER)
    first = hub.review_comment(REPO, number, MODEL, 4, "Q8?", user=MAINTAINER)
    hub.reply(REPO, number, first, "yes", user=MEMBER)
    second = hub.review_comment(REPO, number, MODEL, 20, "Q9?", user=MAINTAINER)
    return number, [first, second]


async def test_review_threads_page_with_cursors(hub, gh):
    number, roots = open_pr_with_threads(hub)
    endpoint = f"{hub.url}/graphql"
    seen, after = [], None
    while True:
        data = await gh.graphql(THREADS, endpoint=endpoint, owner="apache", name="cloudstack", number=number, after=after)
        page = data["repository"]["pullRequest"]["reviewThreads"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [n["comments"]["nodes"][0]["databaseId"] for n in seen] == roots
    assert [n["id"] for n in seen] == [hub.thread_node_id(r) for r in roots]
    assert seen[0] == {"id": seen[0]["id"], "isResolved": False, "path": MODEL, "line": 4,
                       "comments": {"nodes": [{"databaseId": roots[0], "fullDatabaseId": str(roots[0]),
                                               "author": {"login": MAINTAINER}}]}}


async def test_resolve_thread_and_minimize_comment(hub, gh, webhook_inbox):
    number, roots = open_pr_with_threads(hub)
    thread_id = hub.thread_node_id(roots[0])
    resolved = await gh.graphql(
        "mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } } }",
        endpoint=f"{hub.url}/graphql", id=thread_id)
    assert resolved == {"resolveReviewThread": {"thread": {"id": thread_id, "isResolved": True}}}
    note = hub.comment(REPO, number, "old digest", user=MAINTAINER)
    node = hub.payloads.issue_comment(hub.state.issue_comments[note])["node_id"]
    minimized = await gh.graphql(
        f'mutation {{ minimizeComment(input: {{subjectId: "{node}", classifier: OUTDATED}}) '
        '{ minimizedComment { isMinimized minimizedReason } } }', endpoint=f"{hub.url}/graphql")
    assert minimized["minimizeComment"]["minimizedComment"] == {"isMinimized": True, "minimizedReason": "outdated"}
    await hub.deliveries_settled()
    event = webhook_inbox.named("pull_request_review_thread", "resolved")[0]
    assert event["thread"]["node_id"] == thread_id and event["sender"]["login"] == "threat-model-bot[bot]"


async def test_graphql_errors_as_github_reports_them(hub, gh):
    with pytest.raises(QueryError) as missing:
        await gh.graphql('mutation { resolveReviewThread(input: {threadId: "PRRT_nope"}) { thread { id } } }',
                         endpoint=f"{hub.url}/graphql")
    assert "Could not resolve to a node" in str(missing.value)
    with pytest.raises(QueryError):
        await gh.graphql("query { repository(owner: ", endpoint=f"{hub.url}/graphql")
    async with aiohttp.ClientSession() as session:
        anonymous = GitHubAPI(session, "x", oauth_token="wrong", base_url=hub.url)
        with pytest.raises(GraphQLAuthorizationFailure):
            await anonymous.graphql("query { viewer { login } }", endpoint=f"{hub.url}/graphql")
