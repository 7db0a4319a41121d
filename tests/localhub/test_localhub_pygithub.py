"""PyGithub (sync) against a hub on its own thread: App auth, repos, PRs, comments, paging."""
from __future__ import annotations

import base64

import pytest
from github import Auth, Github, GithubException, GithubIntegration

from hub_world import APP_ID, INSTALLATION_ID, MAINTAINER, MEMBER, REPO, SEED_FILES

MODEL = "security/threat-model.md"
FAST = {"seconds_between_requests": 0, "seconds_between_writes": 0}  # PyGithub throttles by default


def test_app_auth_installation_and_repository_reads(hub_in_thread, rsa_key_pair):
    auth = Auth.AppAuth(APP_ID, rsa_key_pair.private_pem.decode())
    integration = GithubIntegration(base_url=hub_in_thread.url, auth=auth, **FAST)
    installation = integration.get_repo_installation("apache", "cloudstack")
    assert installation.id == INSTALLATION_ID
    token = integration.get_access_token(INSTALLATION_ID)
    assert token.token.startswith("ghs_") and token.expires_at is not None
    gh = Github(base_url=hub_in_thread.url, auth=auth.get_installation_auth(INSTALLATION_ID), **FAST)
    repo = gh.get_repo(REPO)
    assert repo.default_branch == "main"
    content = repo.get_contents(MODEL, ref="main")
    assert base64.b64decode(content.content).decode() == SEED_FILES[MODEL]
    updated = repo.update_file(MODEL, "Record Q8", "new text\n", content.sha, branch="main")
    assert updated["commit"].sha == hub_in_thread.call(hub_in_thread.hub.head_sha, REPO)
    with pytest.raises(GithubException) as stale:
        repo.update_file(MODEL, "again", "newer\n", content.sha, branch="main")
    assert stale.value.status == 409
    assert repo.get_git_ref("heads/main").object.sha == updated["commit"].sha


def test_pull_request_conversation_through_pygithub(hub_in_thread, rsa_key_pair):
    hub = hub_in_thread.hub
    text = SEED_FILES[MODEL].replace("Line 7 ", "Line seven ")
    hub_in_thread.call(hub.push, REPO, "edit", {MODEL: text}, user=MEMBER)
    number = hub_in_thread.call(hub.open_pr, REPO, "edit", user=MEMBER)
    first = hub_in_thread.call(hub.review_comment, REPO, number, MODEL, 7, "Q8?", user=MAINTAINER)
    for n in range(35):
        hub_in_thread.call(hub.comment, REPO, number, f"note {n}", user=MEMBER)
    gh = Github(base_url=hub_in_thread.url, auth=Auth.AppAuth(APP_ID, rsa_key_pair.private_pem.decode())
                .get_installation_auth(INSTALLATION_ID), per_page=10, **FAST)
    pr = gh.get_repo(REPO).get_pull(number)
    assert pr.head.ref == "edit" and pr.base.ref == "main" and pr.user.login == MEMBER
    assert [f.filename for f in pr.get_files()] == [MODEL]
    (comment,) = list(pr.get_review_comments())
    assert (comment.id, comment.line, comment.path) == (first, 7, MODEL)
    reply = pr.create_review_comment_reply(first, "Answered")
    assert reply.in_reply_to_id == first
    notes = list(pr.as_issue().get_comments())
    assert len(notes) == 35 and notes[-1].body == "note 34"  # four pages of ten
    posted = pr.as_issue().create_comment("digest")
    posted.edit("digest, edited")
    assert pr.as_issue().get_comment(posted.id).body == "digest, edited"
    assert comment.create_reaction("eyes").content == "eyes"
    assert [r.state for r in pr.get_reviews()] == ["COMMENTED", "COMMENTED"]
    issue = gh.get_repo(REPO).create_issue("Follow up", body="later")
    issue.edit(state="closed")
    assert gh.get_repo(REPO).get_issue(issue.number).state == "closed"
    assert gh.get_repo(REPO).get_collaborator_permission(MAINTAINER) == "admin"


def test_personal_token_for_batch_jobs(hub_in_thread):
    token = hub_in_thread.call(hub_in_thread.hub.personal_token, MAINTAINER)
    gh = Github(base_url=hub_in_thread.url, auth=Auth.Token(token), **FAST)
    assert gh.get_repo(REPO).full_name == REPO
    with pytest.raises(GithubException) as refused:
        Github(base_url=hub_in_thread.url, auth=Auth.Token("ghp_wrong"), **FAST).get_repo(REPO)
    assert refused.value.status == 401
