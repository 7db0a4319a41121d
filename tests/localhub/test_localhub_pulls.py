"""Pull requests, review threads, reviews, issue comments, reactions, issues — via gidgethub."""
from __future__ import annotations

import aiohttp
import pytest
from gidgethub import BadRequest
from gidgethub.aiohttp import GitHubAPI

from hub_world import MAINTAINER, MEMBER, REPO, SEED_FILES
from localhub.errors import GitHubError

MODEL = "security/threat-model.md"


@pytest.fixture
async def gh(hub, installation_token):
    token = await installation_token(hub)
    async with aiohttp.ClientSession() as session:
        yield GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url)


def reworded(line: int) -> dict[str, str]:
    lines = SEED_FILES[MODEL].splitlines(keepends=True)
    lines[line - 1] = f"Reworded line {line}.\n"
    return {MODEL: "".join(lines)}


async def test_bot_creates_a_pr_and_reads_files(hub, gh):
    hub.push(REPO, "bot/q8", reworded(8), user=MAINTAINER)
    created = await gh.post(f"/repos/{REPO}/pulls", data={"title": "Q8", "head": "bot/q8", "base": "main", "body": "b"})
    assert created["number"] == 1 and created["head"]["ref"] == "bot/q8" and created["state"] == "open"
    files = await gh.getitem(f"/repos/{REPO}/pulls/1/files")
    assert [(f["filename"], f["status"], f["additions"], f["deletions"]) for f in files] == [(MODEL, "modified", 1, 1)]
    assert "+Reworded line 8." in files[0]["patch"]
    with pytest.raises(BadRequest) as twice:
        await gh.post(f"/repos/{REPO}/pulls", data={"title": "again", "head": "bot/q8", "base": "main"})
    assert twice.value.status_code == 422


async def test_review_threads_replies_and_edits(hub, gh):
    hub.push(REPO, "edit", reworded(10), user=MEMBER)
    number = hub.open_pr(REPO, "edit", user=MEMBER)
    head = hub.head_sha(REPO, "edit")
    first = await gh.post(f"/repos/{REPO}/pulls/{number}/comments",
                          data={"body": "Q8: is this right?", "commit_id": head, "path": MODEL, "line": 10, "side": "RIGHT"})
    assert first["line"] == 10 and first["original_line"] == 10 and first["side"] == "RIGHT"
    assert first["diff_hunk"].startswith("@@") and first["diff_hunk"].endswith("+Reworded line 10.")
    assert first["commit_id"] == head and first["author_association"] == "NONE"
    assert first["node_id"].startswith("PRRC_")
    with pytest.raises(BadRequest) as outside:
        await gh.post(f"/repos/{REPO}/pulls/{number}/comments",
                      data={"body": "x", "commit_id": head, "path": MODEL, "line": 30})
    assert outside.value.status_code == 422
    reply = hub.reply(REPO, number, first["id"], "Yes.", user=MAINTAINER)
    via_api = await gh.post(f"/repos/{REPO}/pulls/{number}/comments/{first['id']}/replies", data={"body": "Noted"})
    assert via_api["in_reply_to_id"] == first["id"] and via_api["path"] == MODEL
    with pytest.raises(BadRequest) as nested:
        await gh.post(f"/repos/{REPO}/pulls/{number}/comments/{reply}/replies", data={"body": "deeper"})
    assert nested.value.status_code == 422
    listed = await gh.getitem(f"/repos/{REPO}/pulls/{number}/comments")
    assert [(c["id"], c.get("in_reply_to_id"), c["author_association"]) for c in listed] == [
        (first["id"], None, "NONE"), (reply, first["id"], "MEMBER"), (via_api["id"], first["id"], "NONE")]
    edited = await gh.patch(f"/repos/{REPO}/pulls/comments/{via_api['id']}", data={"body": "Noted, thanks"})
    assert edited["body"] == "Noted, thanks"
    await gh.delete(f"/repos/{REPO}/pulls/comments/{via_api['id']}")
    assert len(await gh.getitem(f"/repos/{REPO}/pulls/{number}/comments")) == 2


async def test_reviews_and_reactions(hub, gh):
    hub.push(REPO, "edit", reworded(3), user=MEMBER)
    number = hub.open_pr(REPO, "edit", user=MEMBER)
    review = hub.submit_review(REPO, number, user=MAINTAINER, event="REQUEST_CHANGES", body="Not yet",
                               comments=[{"path": MODEL, "line": 3, "body": "Why?"}])
    reviews = await gh.getitem(f"/repos/{REPO}/pulls/{number}/reviews")
    assert [(r["id"], r["state"], r["user"]["login"]) for r in reviews] == [(review, "CHANGES_REQUESTED", MAINTAINER)]
    (comment,) = await gh.getitem(f"/repos/{REPO}/pulls/{number}/comments")
    assert comment["pull_request_review_id"] == review
    first = await gh.post(f"/repos/{REPO}/pulls/comments/{comment['id']}/reactions", data={"content": "eyes"},
                          accept="application/vnd.github+json")
    again = await gh.post(f"/repos/{REPO}/pulls/comments/{comment['id']}/reactions", data={"content": "eyes"})
    assert first["id"] == again["id"]
    hub.react(REPO, comment["id"], "+1", user=MEMBER)
    reactions = await gh.getitem(f"/repos/{REPO}/pulls/comments/{comment['id']}/reactions")
    assert sorted(r["content"] for r in reactions) == ["+1", "eyes"]
    refreshed = await gh.getitem(f"/repos/{REPO}/pulls/comments/{comment['id']}")
    assert refreshed["reactions"]["total_count"] == 2
    with pytest.raises(GitHubError) as own:
        hub.submit_review(REPO, number, user=MEMBER, event="APPROVE")
    assert own.value.status == 422 and "your own pull request" in str(own.value.errors)
    approved = await gh.post(f"/repos/{REPO}/pulls/{number}/reviews", data={"event": "APPROVE", "body": "ok"})
    assert approved["state"] == "APPROVED"


async def test_issue_comments_issues_labels_and_permissions(hub, gh):
    issue = await gh.post(f"/repos/{REPO}/issues", data={"title": "Follow up Q12", "body": "details", "labels": ["threat-model"]})
    assert issue["labels"][0]["name"] == "threat-model" and issue["state"] == "open"
    comment = await gh.post(f"/repos/{REPO}/issues/{issue['number']}/comments", data={"body": "tracking"})
    edited = await gh.patch(f"/repos/{REPO}/issues/comments/{comment['id']}", data={"body": "tracking it"})
    assert edited["body"] == "tracking it" and edited["performed_via_github_app"]["slug"] == "threat-model-bot"
    await gh.post(f"/repos/{REPO}/issues/comments/{comment['id']}/reactions", data={"content": "rocket"})
    assert [r["content"] for r in await gh.getitem(f"/repos/{REPO}/issues/comments/{comment['id']}/reactions")] == ["rocket"]
    labels = await gh.post(f"/repos/{REPO}/issues/{issue['number']}/labels", data={"labels": ["security"]})
    assert [label["name"] for label in labels] == ["threat-model", "security"]
    closed = await gh.patch(f"/repos/{REPO}/issues/{issue['number']}", data={"state": "closed"})
    assert closed["state"] == "closed" and closed["closed_at"]
    await gh.delete(f"/repos/{REPO}/issues/comments/{comment['id']}")
    assert await gh.getitem(f"/repos/{REPO}/issues/{issue['number']}/comments") == []
    hub.add_collaborator(REPO, "helper", "maintain")
    for login, permission in ((MAINTAINER, "admin"), (MEMBER, "read"), ("helper", "write")):
        answer = await gh.getitem(f"/repos/{REPO}/collaborators/{login}/permission")
        assert answer["permission"] == permission and answer["user"]["login"] == login
    with pytest.raises(BadRequest) as unknown:
        await gh.getitem(f"/repos/{REPO}/collaborators/nobody/permission")
    assert unknown.value.status_code == 404


async def test_author_association_follows_github_rules(hub, gh):
    hub.create_repo("alice/notes", {"a.md": "one\ntwo\n"})
    hub.add_collaborator("alice/notes", "carol", "write")
    hub.push("alice/notes", "main", {"a.md": "one\ntwo\nthree\n"}, user="dave")  # dave contributes a commit
    hub.add_user("erin")
    number = hub.open_issue("alice/notes", "talk", user="alice")
    for login in ("alice", "carol", "dave", "erin"):
        hub.comment("alice/notes", number, f"hi from {login}", user=login)
    listed = await gh.getitem(f"/repos/alice/notes/issues/{number}/comments")
    assert [(c["user"]["login"], c["author_association"]) for c in listed] == [
        ("alice", "OWNER"), ("carol", "COLLABORATOR"), ("dave", "CONTRIBUTOR"), ("erin", "NONE")]
    org_comment = hub.comment(REPO, hub.open_issue(REPO, "x", user=MEMBER), "org", user=MEMBER)
    assert (await gh.getitem(f"/repos/{REPO}/issues/comments/{org_comment}"))["author_association"] == "MEMBER"
