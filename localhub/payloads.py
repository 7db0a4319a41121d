"""JSON shapes of GitHub objects, shared by REST responses and webhook payloads so they agree.

Field sets follow octokit's webhook schemas (which forbid extra properties) and the REST
examples; every URL points back at this server so PyGithub's lazy completion works.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from localhub.state import (
    PERMISSION_RANK,
    App,
    HubState,
    Installation,
    Issue,
    IssueComment,
    Label,
    PullRequest,
    Reaction,
    Repo,
    Review,
    ReviewComment,
    Thread,
    User,
)

Json = dict[str, Any]
REACTION_CONTENTS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
APP_PERMISSIONS = {"contents": "write", "issues": "write", "metadata": "read", "pull_requests": "write"}
APP_EVENTS = [
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_thread",
    "push",
]


def node_id(kind: str, number: int) -> str:
    """A GraphQL global id in GitHub's new style: `<KIND>_<opaque>`."""
    return f"{kind}_" + base64.urlsafe_b64encode(f"{kind}:{number}".encode()).decode().rstrip("=")


def parse_node_id(value: str) -> tuple[str, int] | None:
    kind, _, opaque = value.partition("_")
    try:
        decoded = base64.urlsafe_b64decode(opaque + "=" * (-len(opaque) % 4)).decode()
        decoded_kind, _, number = decoded.partition(":")
        return (kind, int(number)) if decoded_kind == kind else None
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class Payloads:
    state: HubState
    api: str  # e.g. "http://127.0.0.1:8001" (no trailing slash)

    @property
    def web(self) -> str:
        """Where html_url links point (GitHub's web UI lives on the same server here)."""
        return self.api

    # -- people -------------------------------------------------------------------------

    def user(self, login: str) -> Json:
        user: User = self.state.user(login)
        u = f"{self.api}/users/{user.login}"
        prefix = {"Bot": "BOT", "Organization": "O"}.get(user.type, "U")
        body: Json = {
            "login": user.login,
            "id": user.id,
            "node_id": node_id(prefix, user.id),
            "avatar_url": f"{self.web}/avatars/u/{user.id}",
            "gravatar_id": "",
            "url": u,
            "html_url": f"{self.web}/{user.login}" if user.type != "Bot" else f"{self.web}/apps/{user.login[:-5]}",
            "followers_url": f"{u}/followers",
            "following_url": f"{u}/following{{/other_user}}",
            "gists_url": f"{u}/gists{{/gist_id}}",
            "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{u}/subscriptions",
            "organizations_url": f"{u}/orgs",
            "repos_url": f"{u}/repos",
            "events_url": f"{u}/events{{/privacy}}",
            "received_events_url": f"{u}/received_events",
            "type": user.type,
            "site_admin": False,
        }
        return body

    def organization(self, login: str) -> Json:
        org = self.state.orgs[login]
        u = f"{self.api}/orgs/{login}"
        return {
            "login": login,
            "id": org.user.id,
            "node_id": node_id("O", org.user.id),
            "url": u,
            "html_url": f"{self.web}/{login}",
            "repos_url": f"{u}/repos",
            "events_url": f"{u}/events",
            "hooks_url": f"{u}/hooks",
            "issues_url": f"{u}/issues",
            "members_url": f"{u}/members{{/member}}",
            "public_members_url": f"{u}/public_members{{/member}}",
            "avatar_url": f"{self.web}/avatars/u/{org.user.id}",
            "description": org.description,
        }

    # -- repositories -------------------------------------------------------------------

    def repo_url(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def repository(self, repo: Repo, level: str | None = None) -> Json:
        u = self.repo_url(repo)
        html = f"{self.web}/{repo.full_name}"
        open_issues = sum(
            1 for (r, _), i in self.state.issues.items() if r == repo.full_name and i.state == "open"
        )
        body: Json = {
            "id": repo.id,
            "node_id": node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": html,
            "description": repo.description,
            "fork": repo.fork_of is not None,
            "url": u,
            "forks_url": f"{u}/forks",
            "keys_url": f"{u}/keys{{/key_id}}",
            "collaborators_url": f"{u}/collaborators{{/collaborator}}",
            "teams_url": f"{u}/teams",
            "hooks_url": f"{u}/hooks",
            "issue_events_url": f"{u}/issues/events{{/number}}",
            "events_url": f"{u}/events",
            "assignees_url": f"{u}/assignees{{/user}}",
            "branches_url": f"{u}/branches{{/branch}}",
            "tags_url": f"{u}/tags",
            "blobs_url": f"{u}/git/blobs{{/sha}}",
            "git_tags_url": f"{u}/git/tags{{/sha}}",
            "git_refs_url": f"{u}/git/refs{{/sha}}",
            "trees_url": f"{u}/git/trees{{/sha}}",
            "statuses_url": f"{u}/statuses/{{sha}}",
            "languages_url": f"{u}/languages",
            "stargazers_url": f"{u}/stargazers",
            "contributors_url": f"{u}/contributors",
            "subscribers_url": f"{u}/subscribers",
            "subscription_url": f"{u}/subscription",
            "commits_url": f"{u}/commits{{/sha}}",
            "git_commits_url": f"{u}/git/commits{{/sha}}",
            "comments_url": f"{u}/comments{{/number}}",
            "issue_comment_url": f"{u}/issues/comments{{/number}}",
            "contents_url": f"{u}/contents/{{+path}}",
            "compare_url": f"{u}/compare/{{base}}...{{head}}",
            "merges_url": f"{u}/merges",
            "archive_url": f"{u}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{u}/downloads",
            "issues_url": f"{u}/issues{{/number}}",
            "pulls_url": f"{u}/pulls{{/number}}",
            "milestones_url": f"{u}/milestones{{/number}}",
            "notifications_url": f"{u}/notifications{{?since,all,participating}}",
            "labels_url": f"{u}/labels{{/name}}",
            "releases_url": f"{u}/releases{{/id}}",
            "deployments_url": f"{u}/deployments",
            "created_at": repo.created_at,
            "updated_at": repo.updated_at,
            "pushed_at": repo.pushed_at,
            "git_url": f"git://localhost/{repo.full_name}.git",
            "ssh_url": f"git@localhost:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": False,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": sum(1 for r in self.state.repos.values() if r.fork_of == repo.full_name),
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": sum(1 for r in self.state.repos.values() if r.fork_of == repo.full_name),
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": repo.default_branch,
            "custom_properties": {},
        }
        if level is not None:  # the caller's own access, on REST responses only
            body["permissions"] = self.permissions(level)
        return body

    @staticmethod
    def permissions(role: str) -> Json:
        """What a role may do, as the `permissions` object of a repository or a collaborator."""
        rank = PERMISSION_RANK[role]
        return {"admin": rank >= 5, "maintain": rank >= 4, "push": rank >= 3, "triage": rank >= 2, "pull": rank >= 1}

    def full_repository(self, repo: Repo, level: str | None) -> Json:
        """GET /repos/{o}/{r}: adds the counts, the owning organization (as an account, where a
        push webhook names it by login) and `parent`/`source` for forks; REST only."""
        body = self.repository(repo, level)
        body["network_count"] = body["forks_count"]
        body["subscribers_count"] = 0
        if repo.owner in self.state.orgs:
            body["organization"] = self.user(repo.owner)
        if repo.fork_of:
            parent = self.state.repo_named(repo.fork_of)
            body["parent"] = body["source"] = self.repository(parent)
        return body

    def installation_lite(self, installation: Installation) -> Json:
        return {"id": installation.id, "node_id": node_id("IN", installation.id)}

    # -- issues and pull requests -------------------------------------------------------

    def label(self, repo: Repo, label: Label) -> Json:
        return {
            "id": label.id,
            "node_id": node_id("LA", label.id),
            "url": f"{self.repo_url(repo)}/labels/{label.name}",
            "name": label.name,
            "description": label.description,
            "color": label.color,
            "default": False,
        }

    def issue(self, issue: Issue) -> Json:
        repo = self.state.repo_named(issue.repo)
        u = f"{self.repo_url(repo)}/issues/{issue.number}"
        html = f"{self.web}/{repo.full_name}/{'pull' if issue.is_pull else 'issues'}/{issue.number}"
        comments = sum(
            1 for c in self.state.issue_comments.values()
            if c.repo == issue.repo and c.issue_number == issue.number
        )
        body: Json = {
            "url": u,
            "repository_url": self.repo_url(repo),
            "labels_url": f"{u}/labels{{/name}}",
            "comments_url": f"{u}/comments",
            "events_url": f"{u}/events",
            "html_url": html,
            "id": issue.id,
            "node_id": node_id("PR" if issue.is_pull else "I", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.user),
            "labels": [self.label(repo, label) for label in issue.labels],
            "state": issue.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": comments,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "author_association": self.state.author_association(repo, issue.user),
            "active_lock_reason": None,
            "body": issue.body,
            "reactions": self.reactions_summary(f"{u}/reactions", None),
            "timeline_url": f"{u}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }
        if issue.is_pull:
            pr = self.state.pulls[(issue.repo, issue.number)]
            body["pull_request"] = {
                "url": f"{self.repo_url(repo)}/pulls/{issue.number}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": pr.merged_at,
            }
        return body

    def head_sha(self, pr: PullRequest) -> str:
        return self.state.repo_named(pr.head_repo).refs[f"heads/{pr.head_ref}"]

    def base_sha(self, pr: PullRequest) -> str:
        return self.state.repo_named(pr.repo).refs[f"heads/{pr.base_ref}"]

    def _branch(self, repo: Repo, ref: str, sha: str) -> Json:
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repository(repo),
        }

    def simple_pull_request(self, pr: PullRequest) -> Json:
        """The pull request as review/comment/thread webhooks carry it (no merge stats)."""
        repo = self.state.repo_named(pr.repo)
        issue = self.state.issues[(pr.repo, pr.number)]
        u = f"{self.repo_url(repo)}/pulls/{pr.number}"
        html = f"{self.web}/{repo.full_name}/pull/{pr.number}"
        issue_url = f"{self.repo_url(repo)}/issues/{pr.number}"
        head = self.state.repo_named(pr.head_repo)
        return {
            "url": u,
            "id": pr.id,
            "node_id": node_id("PR", pr.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "number": pr.number,
            "state": issue.state,
            "locked": False,
            "title": issue.title,
            "user": self.user(issue.user),
            "body": issue.body,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "merged_at": pr.merged_at,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [self.label(repo, label) for label in issue.labels],
            "milestone": None,
            "draft": pr.draft,
            "commits_url": f"{u}/commits",
            "review_comments_url": f"{u}/comments",
            "review_comment_url": f"{self.repo_url(repo)}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{self.repo_url(repo)}/statuses/{self.head_sha(pr)}",
            "head": self._branch(head, pr.head_ref, self.head_sha(pr)),
            "base": self._branch(repo, pr.base_ref, self.base_sha(pr)),
            "_links": {
                "self": {"href": u},
                "html": {"href": html},
                "issue": {"href": issue_url},
                "comments": {"href": f"{issue_url}/comments"},
                "review_comments": {"href": f"{u}/comments"},
                "review_comment": {"href": f"{self.repo_url(repo)}/pulls/comments{{/number}}"},
                "commits": {"href": f"{u}/commits"},
                "statuses": {"href": f"{self.repo_url(repo)}/statuses/{self.head_sha(pr)}"},
            },
            "author_association": self.state.author_association(repo, issue.user),
            "auto_merge": None,
            "active_lock_reason": None,
        }

    def pull_request(self, pr: PullRequest, changes: list[Any] | None = None) -> Json:
        """The full pull request (REST, and `pull_request` webhooks)."""
        body = self.simple_pull_request(pr)
        files = changes or []
        body.update(
            {
                "merged": pr.merged,
                "mergeable": True,
                "rebaseable": True,
                "mergeable_state": "clean",
                "merged_by": None,
                "comments": sum(
                    1 for c in self.state.issue_comments.values()
                    if c.repo == pr.repo and c.issue_number == pr.number
                ),
                "review_comments": sum(
                    1 for c in self.state.review_comments.values()
                    if c.repo == pr.repo and c.pr_number == pr.number
                ),
                "maintainer_can_modify": pr.maintainer_can_modify,
                "commits": 1,
                "additions": sum(f.additions for f in files),
                "deletions": sum(f.deletions for f in files),
                "changed_files": len(files),
            }
        )
        return body

    def pull_file(self, repo: Repo, head_sha: str, change: Any) -> Json:
        blob = f"{self.web}/{repo.full_name}/blob/{head_sha}/{change.path}"
        return {
            "sha": change.sha or "0" * 40,
            "filename": change.path,
            "status": change.status,
            "additions": change.additions,
            "deletions": change.deletions,
            "changes": change.additions + change.deletions,
            "blob_url": blob,
            "raw_url": f"{self.web}/{repo.full_name}/raw/{head_sha}/{change.path}",
            "contents_url": f"{self.repo_url(repo)}/contents/{change.path}?ref={head_sha}",
            "patch": change.patch,
        }

    # -- comments, reviews, reactions ---------------------------------------------------

    def reactions_summary(self, url: str, subject: tuple[str, int] | None) -> Json:
        counts = {content: 0 for content in REACTION_CONTENTS}
        if subject is not None:
            for reaction in self.state.reactions.values():
                if reaction.subject == subject:
                    counts[reaction.content] += 1
        return {"url": url, "total_count": sum(counts.values()), **counts}

    def review_comment(self, comment: ReviewComment) -> Json:
        repo = self.state.repo_named(comment.repo)
        u = f"{self.repo_url(repo)}/pulls/comments/{comment.id}"
        pr_url = f"{self.repo_url(repo)}/pulls/{comment.pr_number}"
        html = f"{self.web}/{repo.full_name}/pull/{comment.pr_number}#discussion_r{comment.id}"
        body: Json = {
            "url": u,
            "pull_request_review_id": comment.review_id,
            "id": comment.id,
            "node_id": node_id("PRRC", comment.id),
            "diff_hunk": comment.diff_hunk,
            "path": comment.path,
            "position": comment.position,
            "original_position": comment.original_position,
            "commit_id": comment.commit_id,
            "original_commit_id": comment.original_commit_id,
            "user": self.user(comment.user),
            "body": comment.body,
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "html_url": html,
            "pull_request_url": pr_url,
            "author_association": self.state.author_association(repo, comment.user),
            "_links": {"self": {"href": u}, "html": {"href": html}, "pull_request": {"href": pr_url}},
            "reactions": self.reactions_summary(f"{u}/reactions", ("review_comment", comment.id)),
            "start_line": comment.start_line,
            "original_start_line": comment.original_start_line,
            "start_side": comment.start_side,
            "line": comment.line,
            "original_line": comment.original_line,
            "side": comment.side,
            "subject_type": comment.subject_type,
        }
        if comment.in_reply_to_id is not None:
            body["in_reply_to_id"] = comment.in_reply_to_id
        return body

    def rest_review_comment(self, comment: ReviewComment) -> Json:
        """A review comment as REST shows it: an outdated comment has no `line` or `position`
        (REST describes them as integers only; webhooks send null)."""
        body = self.review_comment(comment)
        for key in ("line", "position", "original_line", "original_position"):
            if body[key] is None:
                del body[key]
        return body

    def issue_comment(self, comment: IssueComment) -> Json:
        repo = self.state.repo_named(comment.repo)
        issue = self.state.issues[(comment.repo, comment.issue_number)]
        kind = "pull" if issue.is_pull else "issues"
        u = f"{self.repo_url(repo)}/issues/comments/{comment.id}"
        return {
            "url": u,
            "html_url": f"{self.web}/{repo.full_name}/{kind}/{comment.issue_number}#issuecomment-{comment.id}",
            "issue_url": f"{self.repo_url(repo)}/issues/{comment.issue_number}",
            "id": comment.id,
            "node_id": node_id("IC", comment.id),
            "user": self.user(comment.user),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "author_association": self.state.author_association(repo, comment.user),
            "body": comment.body,
            "reactions": self.reactions_summary(f"{u}/reactions", ("issue_comment", comment.id)),
            "performed_via_github_app": (
                self.app(self.state.apps[comment.via_app]) if comment.via_app else None
            ),
        }

    def review(self, review: Review, webhook: bool = False) -> Json:
        """A review; webhooks spell `state` in lower case, REST in upper case."""
        repo = self.state.repo_named(review.repo)
        pr_url = f"{self.repo_url(repo)}/pulls/{review.pr_number}"
        html = f"{self.web}/{repo.full_name}/pull/{review.pr_number}#pullrequestreview-{review.id}"
        return {
            "id": review.id,
            "node_id": node_id("PRR", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "commit_id": review.commit_id,
            "submitted_at": review.submitted_at,
            "state": review.state.lower() if webhook else review.state,
            "html_url": html,
            "pull_request_url": pr_url,
            "author_association": self.state.author_association(repo, review.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        }

    def reaction(self, reaction: Reaction) -> Json:
        return {
            "id": reaction.id,
            "node_id": node_id("REA", reaction.id),
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": reaction.created_at,
        }

    def thread(self, thread: Thread) -> Json:
        """The `thread` object of pull_request_review_thread webhooks."""
        comments = sorted(
            (c for c in self.state.review_comments.values()
             if c.id == thread.root_comment_id or c.in_reply_to_id == thread.root_comment_id),
            key=lambda c: c.id,
        )
        return {
            "node_id": node_id("PRRT", thread.id),
            "comments": [self.review_comment(c) for c in comments],
        }

    # -- apps ---------------------------------------------------------------------------

    def app(self, app: App) -> Json:
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": node_id("A", app.id),
            "owner": self.user(app.owner),
            "name": app.name,
            "description": None,
            "external_url": f"{self.web}/apps/{app.slug}",
            "html_url": f"{self.web}/apps/{app.slug}",
            "created_at": app.created_at,
            "updated_at": app.created_at,
            "permissions": dict(APP_PERMISSIONS),
            "events": list(APP_EVENTS),
        }

    def installation(self, installation: Installation) -> Json:
        app = self.state.apps[installation.app_id]
        account = self.state.user(installation.account)
        u = f"{self.api}/app/installations/{installation.id}"
        return {
            "id": installation.id,
            "account": self.user(installation.account),
            "repository_selection": "all" if installation.repositories is None else "selected",
            "access_tokens_url": f"{u}/access_tokens",
            "repositories_url": f"{self.api}/installation/repositories",
            "html_url": f"{self.web}/settings/installations/{installation.id}",
            "app_id": app.id,
            "app_slug": app.slug,
            "target_id": account.id,
            "target_type": account.type,
            "permissions": dict(APP_PERMISSIONS),
            "events": list(APP_EVENTS),
            "created_at": installation.created_at,
            "updated_at": installation.created_at,
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    # -- git ----------------------------------------------------------------------------

    def git_ref(self, repo: Repo, name: str) -> Json:
        sha = repo.refs[name]
        return {
            "ref": f"refs/{name}",
            "node_id": node_id("REF", abs(hash((repo.id, name))) % 10**9),
            "url": f"{self.repo_url(repo)}/git/refs/{name}",
            "object": {"type": "commit", "sha": sha, "url": f"{self.repo_url(repo)}/git/commits/{sha}"},
        }

    def git_commit(self, repo: Repo, sha: str) -> Json:
        commit = repo.store.commits[sha]
        u = self.repo_url(repo)

        def person(sig: Any) -> Json:
            return {"name": sig.name, "email": sig.email, "date": sig.date}

        return {
            "sha": sha,
            "node_id": node_id("C", int(sha[:12], 16)),
            "url": f"{u}/git/commits/{sha}",
            "html_url": f"{self.web}/{repo.full_name}/commit/{sha}",
            "author": person(commit.author),
            "committer": person(commit.committer),
            "message": commit.message,
            "tree": {"sha": commit.tree, "url": f"{u}/git/trees/{commit.tree}"},
            "parents": [
                {"sha": p, "url": f"{u}/git/commits/{p}", "html_url": f"{self.web}/{repo.full_name}/commit/{p}"}
                for p in commit.parents
            ],
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None},
        }

    def git_tree(self, repo: Repo, sha: str) -> Json:
        tree = repo.store.trees[sha]
        u = self.repo_url(repo)
        entries = []
        for e in tree.entries:
            entry: Json = {"path": e.path, "mode": e.mode, "type": e.type, "sha": e.sha,
                           "url": f"{u}/git/{'trees' if e.type == 'tree' else 'blobs'}/{e.sha}"}
            if e.type == "blob":
                entry["size"] = len(repo.store.blobs[e.sha].data)
            entries.append(entry)
        return {"sha": sha, "url": f"{u}/git/trees/{sha}", "tree": entries, "truncated": False}

    def content_file(self, repo: Repo, path: str, blob_sha: str, ref: str, with_content: bool = True) -> Json:
        u = self.repo_url(repo)
        data = repo.store.blobs[blob_sha].data
        html = f"{self.web}/{repo.full_name}/blob/{ref}/{path}"
        body: Json = {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": base64.encodebytes(data).decode(),
            "sha": blob_sha,
            "url": f"{u}/contents/{path}?ref={ref}",
            "git_url": f"{u}/git/blobs/{blob_sha}",
            "html_url": html,
            "download_url": f"{self.web}/{repo.full_name}/raw/{ref}/{path}",
            "_links": {"self": f"{u}/contents/{path}?ref={ref}", "git": f"{u}/git/blobs/{blob_sha}", "html": html},
        }
        if not with_content:
            del body["content"], body["encoding"]
        return body

    def content_dir_entry(self, repo: Repo, path: str, entry: Any, ref: str) -> Json:
        u = self.repo_url(repo)
        kind = "dir" if entry.type == "tree" else "file"
        html = f"{self.web}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
        git = f"{u}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}"
        return {
            "type": kind,
            "size": 0 if kind == "dir" else len(repo.store.blobs[entry.sha].data),
            "name": entry.path,
            "path": path,
            "sha": entry.sha,
            "url": f"{u}/contents/{path}?ref={ref}",
            "git_url": git,
            "html_url": html,
            "download_url": None if kind == "dir" else f"{self.web}/{repo.full_name}/raw/{ref}/{path}",
            "_links": {"self": f"{u}/contents/{path}?ref={ref}", "git": git, "html": html},
        }
