"""Every webhook the local GitHub emits: signed, enveloped, and valid against octokit's schemas."""
from __future__ import annotations

import aiohttp
from gidgethub.aiohttp import GitHubAPI

from hub_world import MAINTAINER, MEMBER, ORG, REPO, SEED_FILES

MODEL = "security/threat-model.md"


def change_line(number: int, text: str) -> dict[str, str]:
    lines = SEED_FILES[MODEL].splitlines(keepends=True)
    lines[number - 1] = text + "\n"
    return {MODEL: "".join(lines)}


async def open_model_pr(hub) -> int:
    hub.push(REPO, "model-update", change_line(5, "Line 5, reworded by a contributor."), user=MEMBER)
    return hub.open_pr(REPO, "model-update", user=MEMBER, title="Update the threat model")


async def test_a_conversation_emits_schema_valid_signed_webhooks(hub, webhook_inbox, validate_webhook):
    number = await open_model_pr(hub)
    first = hub.review_comment(REPO, number, MODEL, 5, "Is this Q8?", user=MAINTAINER)
    reply = hub.reply(REPO, number, first, "Yes, it answers Q8.", user=MEMBER)
    hub.edit_comment(REPO, reply, "Yes, it answers Q8 fully.", user=MEMBER)
    hub.submit_review(REPO, number, user=MAINTAINER, event="COMMENT", body="Looks close.",
                      comments=[{"path": MODEL, "line": 5, "body": "One more note"}])
    note = hub.comment(REPO, number, "Thanks all", user=MAINTAINER)
    hub.edit_comment(REPO, note, "Thanks, all", user=MAINTAINER)
    hub.delete_comment(REPO, note, user=MAINTAINER)
    hub.resolve_thread(REPO, first, user=MAINTAINER)
    hub.resolve_thread(REPO, first, user=MAINTAINER, resolved=False)
    hub.react(REPO, first, "+1", user=MEMBER)  # GitHub sends nothing for reactions
    hub.delete_comment(REPO, reply, user=MEMBER)
    issue = hub.open_issue(REPO, "Follow up Q8", user=MAINTAINER)
    hub.close_issue(REPO, issue, user=MAINTAINER)
    await hub.deliveries_settled()

    assert webhook_inbox.bad_signatures == 0
    names = [(event, payload.get("action")) for event, _, payload in webhook_inbox.events]
    assert names == [
        ("push", None), ("pull_request", "opened"),
        ("pull_request_review_comment", "created"), ("pull_request_review", "submitted"),
        ("pull_request_review_comment", "created"), ("pull_request_review", "submitted"),
        ("pull_request_review_comment", "edited"),
        ("pull_request_review_comment", "created"), ("pull_request_review", "submitted"),
        ("issue_comment", "created"), ("issue_comment", "edited"), ("issue_comment", "deleted"),
        ("pull_request_review_thread", "resolved"), ("pull_request_review_thread", "unresolved"),
        ("pull_request_review_comment", "deleted"),
        ("issues", "opened"), ("issues", "closed"),
    ]
    validated = {(e, p.get("action")) for e, _, p in webhook_inbox.events if validate_webhook(e, p)}
    assert validated == {
        ("pull_request_review_comment", "created"), ("pull_request_review_comment", "edited"),
        ("pull_request_review_comment", "deleted"), ("pull_request_review", "submitted"),
        ("issue_comment", "created"), ("issue_comment", "edited"), ("issue_comment", "deleted"),
        ("pull_request_review_thread", "resolved"), ("pull_request_review_thread", "unresolved"),
        ("issues", "closed"),
    }
    for _event, guid, payload in webhook_inbox.events:
        assert payload["installation"]["id"] == 77 and payload["installation"]["node_id"]
        assert payload["organization"]["login"] == ORG
        assert payload["repository"]["full_name"] == REPO
        assert len(guid) == 36
    reply_payload = webhook_inbox.named("pull_request_review_comment", "created")[1]["comment"]
    assert reply_payload["in_reply_to_id"] == first
    assert reply_payload["author_association"] == "MEMBER"
    edited = webhook_inbox.named("pull_request_review_comment", "edited")[0]
    assert edited["changes"] == {"body": {"from": "Yes, it answers Q8."}}
    resolved = webhook_inbox.named("pull_request_review_thread", "resolved")[0]
    assert resolved["thread"]["node_id"] == hub.thread_node_id(first)
    assert [c["id"] for c in resolved["thread"]["comments"]] == [first, reply]
    assert all(d.status_code == 200 for d in hub.deliveries)


async def test_push_to_a_pr_head_sends_synchronize_and_outdates_changed_comments(hub, webhook_inbox):
    number = await open_model_pr(hub)
    kept = hub.review_comment(REPO, number, MODEL, 5, "on the change", user=MAINTAINER)
    hub.push(REPO, "model-update", {"README.md": "# cloudstack\nmore\n"}, user=MEMBER)
    assert hub.state.review_comments[kept].line == 5  # file unchanged: still current
    hub.push(REPO, "model-update", change_line(6, "Line 6 changed too."), user=MEMBER)
    await hub.deliveries_settled()
    sync = webhook_inbox.named("pull_request", "synchronize")
    assert len(sync) == 2 and sync[-1]["after"] == hub.head_sha(REPO, "model-update")
    comment = hub.state.review_comments[kept]
    assert comment.line is None and comment.original_line == 5  # outdated, as GitHub shows it


async def test_the_apps_own_writes_come_back_with_a_bot_sender(hub, webhook_inbox, installation_token):
    number = await open_model_pr(hub)
    token = await installation_token(hub)
    async with aiohttp.ClientSession() as session:
        gh = GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url)
        posted = await gh.post(f"/repos/{REPO}/issues/{number}/comments", data={"body": "Notice"})
    await hub.deliveries_settled()
    payload = webhook_inbox.named("issue_comment", "created")[0]
    assert payload["sender"] == {**payload["sender"], "login": "threat-model-bot[bot]", "type": "Bot"}
    assert payload["comment"]["id"] == posted["id"]
    assert payload["comment"]["performed_via_github_app"]["id"] == 4242


async def test_webhook_faults_drop_duplicate_and_reorder(hub, webhook_inbox):
    number = await open_model_pr(hub)
    await hub.deliveries_settled()
    webhook_inbox.events.clear()
    hub.faults.drop_webhooks(times=1, event="issue_comment")
    hub.comment(REPO, number, "lost", user=MEMBER)
    hub.faults.duplicate_webhooks(times=1)
    hub.comment(REPO, number, "twice", user=MEMBER)
    hub.faults.reorder_webhooks(count=2)
    hub.comment(REPO, number, "first", user=MEMBER)
    hub.comment(REPO, number, "second", user=MEMBER)
    await hub.deliveries_settled()
    bodies = [p["comment"]["body"] for e, _, p in webhook_inbox.events]
    assert bodies == ["twice", "twice", "second", "first"]
    guids = [g for _, g, _ in webhook_inbox.events]
    assert guids[0] == guids[1]  # a duplicate carries the same X-GitHub-Delivery
    dropped = [d for d in hub.deliveries if d.dropped]
    assert len(dropped) == 1 and dropped[0].payload["comment"]["body"] == "lost"


async def test_deliveries_record_the_receivers_answer(hub, webhook_inbox):
    webhook_inbox.status = 500
    hub.open_issue(REPO, "anything", user=MEMBER)
    deliveries = await hub.deliveries_settled()
    assert [(d.event, d.action, d.status_code) for d in deliveries] == [("issues", "opened", 500)]


async def test_no_webhooks_for_repositories_the_app_is_not_installed_on(hub, webhook_inbox):
    hub.create_repo("someone/elsewhere")
    hub.open_issue("someone/elsewhere", "not ours", user="someone")
    assert await hub.deliveries_settled() == []


async def test_deleting_a_branch_sends_a_deleted_push_and_a_delete(hub, webhook_inbox, installation_token):
    hub.push(REPO, "records", {"questions/Q1.yaml": "id: Q1\n"}, user=MEMBER)
    before = hub.head_sha(REPO, "records")
    hub.delete_branch(REPO, "records", user=MEMBER)
    hub.push(REPO, "other", {"x.md": "x\n"}, user=MEMBER)
    token = await installation_token(hub)
    async with aiohttp.ClientSession() as session, session.delete(f"{hub.url}/repos/{REPO}/git/refs/heads/other",
                              headers={"Authorization": f"token {token}"}) as response:
        assert response.status == 204
    await hub.deliveries_settled()

    events = [(event, payload) for event, _, payload in webhook_inbox.events]
    deleted = [payload for event, payload in events if event == "push" and payload["deleted"]]
    assert next((p["ref"], p["before"], p["after"], p["head_commit"], p["commits"]) for p in deleted) == (
        "refs/heads/records", before, "0" * 40, None, [])
    assert [(p["ref"], p["ref_type"], p["pusher_type"]) for event, p in events if event == "delete"] == [
        ("records", "branch", "user"), ("other", "branch", "user")]
    assert [p["sender"]["login"] for event, p in events if event == "delete"] == [MEMBER, "threat-model-bot[bot]"]
