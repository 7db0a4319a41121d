"""The person API: tests and the demo set up the world and act as people on the local GitHub.

Everything here goes through `Actions`, as the REST routes do, so each act sends the
webhook GitHub would send. Methods are synchronous (they only change state and queue
deliveries); call them from the hub's event loop (`ThreadedHub.call` from other threads)
and `await hub.deliveries_settled()` to wait for the deliveries.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from localhub.auth import issue_personal_token
from localhub.git import ObjectStore
from localhub.payloads import node_id
from localhub.state import App, Installation, Org, Repo, User

if TYPE_CHECKING:
    from localhub.actions import Actions
    from localhub.payloads import Payloads
    from localhub.state import HubState
    from localhub.webhooks import WebhookSender

_user_ids = itertools.count(5001)


class People:
    state: HubState
    actions: Actions
    payloads: Payloads
    webhooks: WebhookSender

    # -- setting up the world ---------------------------------------------------------------

    def add_user(self, login: str, name: str | None = None, email: str | None = None) -> User:
        """A person (idempotent: an existing login is returned unchanged)."""
        if login not in self.state.users:
            self.state.users[login] = User(login, next(_user_ids), "User", name, email)
        return self.state.users[login]

    def add_org(self, login: str, members: dict[str, str] | Iterable[str] = ()) -> Org:
        """An organisation; `members` maps login -> "member" | "admin" (or just lists logins)."""
        if login not in self.state.orgs:
            account = User(login, next(_user_ids), "Organization")
            self.state.users[login] = account
            self.state.orgs[login] = Org(account)
        roles = members if isinstance(members, dict) else {m: "member" for m in members}
        for member, role in roles.items():
            self.add_org_member(login, member, role)
        return self.state.orgs[login]

    def add_org_member(self, org: str, login: str, role: str = "member") -> None:
        self.add_user(login)
        self.state.orgs[org].members[login] = role

    def create_repo(self, full_name: str, files: dict[str, str] | None = None, default_branch: str = "main",
                    private: bool = False, description: str | None = None) -> Repo:
        """A repository with one initial commit of `files` by its owner (created if unknown)."""
        owner, name = full_name.split("/")
        if owner not in self.state.users:
            self.add_user(owner)
        repo = Repo(self.state.next_id(), owner, name, ObjectStore(), default_branch, private, description,
                    created_at=self.state.now_iso())
        self.state.repos[full_name.lower()] = repo
        author = owner if self.state.user(owner).type == "User" else next(iter(self.state.orgs[owner].members), owner)
        sig = self.actions.signature_of(author)
        tree = repo.store.tree_with(None, {p: repo.store.put_blob(t.encode()).sha for p, t in (files or {"README.md": f"# {name}\n"}).items()})
        commit = repo.store.put_commit(tree.sha, [], "Initial commit", sig, sig, author)
        repo.refs[f"heads/{default_branch}"] = commit.sha
        return repo

    def fork(self, full_name: str, owner: str) -> Repo:
        """A fork owned by `owner`, sharing the parent's objects (as a GitHub network does)."""
        parent = self.state.repo_named(full_name)
        self.add_user(owner)
        repo = Repo(self.state.next_id(), owner, parent.name, parent.store, parent.default_branch,
                    parent.private, parent.description, refs=dict(parent.refs), fork_of=parent.full_name,
                    created_at=self.state.now_iso())
        self.state.repos[repo.full_name.lower()] = repo
        return repo

    def add_collaborator(self, full_name: str, login: str, permission: str = "write") -> None:
        """Grant `permission` (read, triage, write, maintain, admin) on a repository."""
        self.add_user(login)
        self.state.repo_named(full_name).collaborators[login] = permission

    def register_app(self, app_id: int, public_key_pem: bytes | str, slug: str = "threat-model-bot",
                     name: str | None = None, owner: str | None = None) -> App:
        """Register a GitHub App by id and public key; its bot user is `<slug>[bot]`."""
        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        bot_login = f"{slug}[bot]"
        self.state.users[bot_login] = User(bot_login, next(_user_ids), "Bot")
        app_owner = owner or "localhub"
        self.add_user(app_owner)
        app = App(app_id, slug, name or slug, app_owner, pem, bot_login, created_at=self.state.now_iso())
        self.state.apps[app_id] = app
        self.webhooks.app_id = app_id
        return app

    def install_app(self, app_id: int, account: str, repositories: Iterable[str] | None = None,
                    installation_id: int | None = None) -> Installation:
        """Install the App on a user/org account: all its repos, or only the `repositories` named."""
        installation = Installation(installation_id or self.state.next_id(), app_id, account,
                                    set(repositories) if repositories is not None else None,
                                    created_at=self.state.now_iso())
        self.state.installations[installation.id] = installation
        return installation

    def set_webhook(self, url: str | None, secret: str | None = None) -> None:
        """Where (and signed with what secret) the App's webhooks are delivered."""
        self.webhooks.url, self.webhooks.secret = url, secret

    def personal_token(self, login: str) -> str:
        """A never-expiring personal access token for `login` (PyGithub `Auth.Token`)."""
        self.add_user(login)
        return issue_personal_token(self.state, login).value

    def expire_tokens(self) -> None:
        """Make every installation token expire now (tests of token refresh)."""
        for token in self.state.tokens.values():
            if token.kind == "installation":
                token.expires_at = 0

    # -- acting as a person -----------------------------------------------------------------

    def push(self, full_name: str, branch: str, files: dict[str, str | None], *, user: str,
             message: str = "Update files", from_branch: str | None = None) -> str:
        """Commit `files` ({path: text, or None to delete}) on `branch` (created from
        `from_branch` or the default branch when missing); returns the commit sha.
        Sends `push`, and `pull_request.synchronize` for open PRs with that head."""
        repo = self.state.repo_named(full_name)
        self.add_user(user)
        if f"heads/{branch}" not in repo.refs:
            repo.refs[f"heads/{branch}"] = repo.refs[f"heads/{from_branch or repo.default_branch}"]
        return self.actions.commit_files(repo, branch, files, message, user).sha

    def delete_branch(self, full_name: str, branch: str, *, user: str) -> None:
        """Delete `branch`; sends `push` (with `deleted: true`) and `delete`."""
        self.add_user(user)
        self.actions.delete_ref(self.state.repo_named(full_name), f"heads/{branch}", user)

    def open_pr(self, full_name: str, head: str, *, user: str, base: str | None = None, title: str = "Update",
                body: str | None = None, maintainer_can_modify: bool = True, draft: bool = False) -> int:
        """Open a PR into `full_name`; `head` is "branch" or "forkowner:branch". Returns its number."""
        repo = self.state.repo_named(full_name)
        owner, _, ref = head.rpartition(":")
        head_repo = repo
        if owner and owner.lower() != repo.owner.lower():
            head_repo = self.state.repo_named(f"{owner}/{repo.name}")
        return self.actions.open_pr(repo, head_repo, ref, base or repo.default_branch, title, body, user,
                                    maintainer_can_modify, draft).number

    def review_comment(self, full_name: str, pr: int, path: str, line: int, body: str, *, user: str,
                       side: str = "RIGHT", start_line: int | None = None, commit_id: str | None = None) -> int:
        """A new review thread on `line` of `path` (the head version); returns the comment id."""
        pull = self.actions.pull(self.state.repo_named(full_name), pr)
        return self.actions.add_review_comment(pull, user, body, path, line, side, start_line,
                                               side if start_line else None, commit_id).id

    def reply(self, full_name: str, pr: int, comment_id: int, body: str, *, user: str) -> int:
        """Reply in the thread started by `comment_id` (its first comment); returns the reply id."""
        pull = self.actions.pull(self.state.repo_named(full_name), pr)
        return self.actions.reply(pull, comment_id, body, user).id

    def submit_review(self, full_name: str, pr: int, *, user: str, event: str = "COMMENT", body: str = "",
                      comments: list[dict[str, Any]] | None = None) -> int:
        """Submit a review (APPROVE | REQUEST_CHANGES | COMMENT) with optional line comments
        (`{"path", "line", "body"}` each); returns the review id."""
        pull = self.actions.pull(self.state.repo_named(full_name), pr)
        return self.actions.submit_review(pull, user, body, event, comments).id

    def comment(self, full_name: str, number: int, body: str, *, user: str) -> int:
        """An issue comment (on an issue or a PR's conversation); returns its id."""
        return self.actions.create_issue_comment(self.state.repo_named(full_name), number, body, user).id

    def edit_comment(self, full_name: str, comment_id: int, body: str, *, user: str) -> None:
        """Edit an issue comment or a review comment (whichever has that id)."""
        repo = self.state.repo_named(full_name)
        if comment_id in self.state.review_comments:
            self.actions.edit_review_comment(repo, self.state.review_comments[comment_id], body, user)
        else:
            self.actions.edit_issue_comment(repo, self.actions.issue_comment(repo, comment_id), body, user)

    def delete_comment(self, full_name: str, comment_id: int, *, user: str) -> None:
        repo = self.state.repo_named(full_name)
        if comment_id in self.state.review_comments:
            self.actions.delete_review_comment(repo, self.state.review_comments[comment_id], user)
        else:
            self.actions.delete_issue_comment(repo, self.actions.issue_comment(repo, comment_id), user)

    def react(self, full_name: str, comment_id: int, content: str, *, user: str) -> int:
        """React to a review or issue comment (GitHub sends no webhook); returns the reaction id."""
        self.state.repo_named(full_name)
        kind = "review_comment" if comment_id in self.state.review_comments else "issue_comment"
        return self.actions.react((kind, comment_id), content, user)[0].id

    def open_issue(self, full_name: str, title: str, body: str = "", *, user: str,
                   labels: list[str] | None = None) -> int:
        return self.actions.create_issue(self.state.repo_named(full_name), title, body, user, labels).number

    def close_issue(self, full_name: str, number: int, *, user: str, reason: str = "completed") -> None:
        """Close an issue (`issues.closed`) or a PR (`pull_request.closed`)."""
        repo = self.state.repo_named(full_name)
        self.actions.set_issue_state(repo, self.actions.issue(repo, number), "closed", user, reason)

    def resolve_thread(self, full_name: str, comment_id: int, *, user: str, resolved: bool = True) -> None:
        """Resolve (or unresolve) the thread containing `comment_id`."""
        self.state.repo_named(full_name)
        thread = self.state.thread_of(comment_id)
        assert thread is not None, f"no thread for comment {comment_id}"
        self.actions.set_thread_resolved(thread, resolved, user)

    # -- reading back ------------------------------------------------------------------------

    def file(self, full_name: str, path: str, ref: str | None = None) -> str | None:
        """The text of `path` at `ref` (branch or sha; default branch), None if absent."""
        repo = self.state.repo_named(full_name)
        sha = repo.refs.get(f"heads/{ref or repo.default_branch}", ref)
        entry = repo.store.entry_at(repo.store.commits[sha].tree, path) if sha in repo.store.commits else None
        return repo.store.text(entry.sha) if entry and entry.type == "blob" else None

    def head_sha(self, full_name: str, branch: str | None = None) -> str:
        repo = self.state.repo_named(full_name)
        return repo.refs[f"heads/{branch or repo.default_branch}"]

    def thread_node_id(self, comment_id: int) -> str:
        """The GraphQL id of the review thread containing `comment_id`."""
        thread = self.state.thread_of(comment_id)
        assert thread is not None
        return node_id("PRRT", thread.id)
