"""What can happen on the local GitHub, whoever does it: a REST call or a test acting as a person.

Each operation validates like GitHub, changes the state, and queues the webhook GitHub would
send. Routes and the `LocalHub` person API both call these, so the App's own writes come back
as webhooks with its `[bot]` sender, exactly as people's do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localhub.errors import GitHubError, not_found, validation_failed
from localhub.git import Commit, FileChange, Signature, anchor_in_patch, compare_trees, merge_base
from localhub.payloads import REACTION_CONTENTS, Json, Payloads
from localhub.state import (
    HubState,
    Issue,
    IssueComment,
    Label,
    PullRequest,
    Reaction,
    Repo,
    Review,
    ReviewComment,
    Thread,
)
from localhub.webhooks import WebhookSender

REVIEW_EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}


@dataclass
class Actions:
    state: HubState
    payloads: Payloads
    webhooks: WebhookSender

    # -- webhooks ---------------------------------------------------------------------------

    def emit(self, event: str, repo: Repo, sender: str, body: Json) -> str | None:
        """Queue `event` if the App is installed on `repo`; adds the envelope GitHub adds."""
        installation = self.state.installation_for(repo)
        if installation is None:
            return None
        payload = dict(body)
        payload["repository"] = self.payloads.repository(repo)
        if event == "push" and repo.owner in self.state.orgs:
            payload["repository"]["organization"] = repo.owner  # only a push names it, by login
        payload["sender"] = self.payloads.user(sender)
        payload["installation"] = self.payloads.installation_lite(installation)
        if repo.owner in self.state.orgs:
            payload["organization"] = self.payloads.organization(repo.owner)
        return self.webhooks.enqueue(event, payload)

    # -- git --------------------------------------------------------------------------------

    def signature_of(self, login: str) -> Signature:
        user = self.state.user(login)
        return Signature(user.name or user.login, user.email or f"{user.id}+{user.login}@users.noreply.localhub", self.state.now_iso())

    def commit_files(self, repo: Repo, branch: str, files: dict[str, str | None], message: str,
                     user: str, expected_parent: str | None = None) -> Commit:
        """One commit on `branch` changing `files` ({path: text, or None to delete}), then push."""
        ref = f"heads/{branch}"
        parent = repo.refs.get(ref)
        if expected_parent is not None and parent != expected_parent:
            raise GitHubError(409, f"{branch} moved: expected {expected_parent}, found {parent}")
        base_tree = repo.store.commits[parent].tree if parent else None
        blobs = {path: (repo.store.put_blob(text.encode()).sha if text is not None else None)
                 for path, text in files.items()}
        tree = repo.store.tree_with(base_tree, blobs)
        sig = self.signature_of(user)
        commit = repo.store.put_commit(tree.sha, [parent] if parent else [], message, sig, sig, user)
        self.move_ref(repo, ref, commit.sha, user, force=True)
        return commit

    def move_ref(self, repo: Repo, ref: str, sha: str, user: str, force: bool) -> None:
        """Point `ref` at `sha` (fast-forward unless forced), then send push/synchronize."""
        if sha not in repo.store.commits:
            raise validation_failed("Reference", "sha", message="Object does not exist")
        before = repo.refs.get(ref)
        if before is not None and not force and not repo.store.is_ancestor(before, sha):
            raise GitHubError(422, "Update is not a fast forward")
        repo.refs[ref] = sha
        repo.pushed_at = repo.updated_at = self.state.now_iso()
        author = repo.store.commits[sha].author_login
        if author:
            repo.contributors.add(author)
        self._after_push(repo, ref, before, sha, user)

    def delete_ref(self, repo: Repo, ref: str, user: str) -> None:
        """Remove `ref` ("heads/x" or "tags/x"), then send what GitHub sends: a `push` with
        `deleted: true`, and a `delete`."""
        before = repo.refs.pop(ref, None)
        if before is None:
            raise GitHubError(422, "Reference does not exist")
        repo.pushed_at = repo.updated_at = self.state.now_iso()
        self.announce_deleted(repo, ref, before, user)

    def announce_deleted(self, repo: Repo, ref: str, before: str, user: str) -> None:
        """The events of a deleted `ref` that pointed at `before` (tests send them late too)."""
        pusher = self.state.user(user)
        self.emit("push", repo, user, {
            "ref": f"refs/{ref}", "before": before, "after": "0" * 40,
            "created": False, "deleted": True, "forced": False, "base_ref": None,
            "compare": f"{self.payloads.web}/{repo.full_name}/compare/{before[:12]}...000000000000",
            "commits": [], "head_commit": None,
            "pusher": {"name": pusher.login, "email": pusher.email},
        })
        kind, _, name = ref.partition("/")
        self.emit("delete", repo, user, {"ref": name, "ref_type": "tag" if kind == "tags" else "branch",
                                         "pusher_type": "user"})

    def _after_push(self, repo: Repo, ref: str, before: str | None, after: str, user: str) -> None:
        commit = repo.store.commits[after]
        commit_json = {
            "id": after,
            "tree_id": commit.tree,
            "distinct": True,
            "message": commit.message,
            "timestamp": commit.committer.date,
            "url": f"{self.payloads.web}/{repo.full_name}/commit/{after}",
            "author": {"name": commit.author.name, "email": commit.author.email, "username": commit.author_login},
            "committer": {"name": commit.committer.name, "email": commit.committer.email},
            "added": [], "removed": [], "modified": [],
        }
        pusher = self.state.user(user)
        self.emit("push", repo, user, {
            "ref": f"refs/{ref}",
            "before": before or "0" * 40,
            "after": after,
            "created": before is None,
            "deleted": False,
            "forced": before is not None and not repo.store.is_ancestor(before, after),
            "base_ref": None,
            "compare": f"{self.payloads.web}/{repo.full_name}/compare/{(before or '0' * 40)[:12]}...{after[:12]}",
            "commits": [commit_json],
            "head_commit": commit_json,
            "pusher": {"name": pusher.login, "email": pusher.email},
        })
        if not ref.startswith("heads/"):
            return
        branch = ref[len("heads/"):]
        for pr in list(self.state.pulls.values()):
            issue = self.state.issues[(pr.repo, pr.number)]
            if pr.head_repo == repo.full_name and pr.head_ref == branch and issue.state == "open":
                self._carry_comments_forward(pr, after)
                base = self.state.repo_named(pr.repo)
                issue.updated_at = self.state.now_iso()
                self.emit("pull_request", base, user, {
                    "action": "synchronize", "number": pr.number,
                    "before": before or "0" * 40, "after": after,
                    "pull_request": self.payloads.pull_request(pr, self.pr_files(pr)),
                })

    # -- pull requests ----------------------------------------------------------------------

    def diff_base(self, pr: PullRequest, head_sha: str | None = None) -> tuple[Repo, str, str]:
        base_repo = self.state.repo_named(pr.repo)
        head = head_sha or self.payloads.head_sha(pr)
        base_tip = self.payloads.base_sha(pr)
        start = merge_base(base_repo.store, base_tip, head) or base_tip
        return base_repo, start, head

    def pr_files(self, pr: PullRequest, head_sha: str | None = None) -> list[FileChange]:
        repo, start, head = self.diff_base(pr, head_sha)
        store = repo.store
        return compare_trees(store, store.commits[start].tree, store.commits[head].tree)

    def open_pr(self, repo: Repo, head_repo: Repo, head_ref: str, base_ref: str, title: str,
                body: str | None, user: str, maintainer_can_modify: bool = False, draft: bool = False) -> PullRequest:
        if f"heads/{head_ref}" not in head_repo.refs:
            raise validation_failed("PullRequest", "head", "invalid")
        if f"heads/{base_ref}" not in repo.refs:
            raise validation_failed("PullRequest", "base", "invalid")
        if head_repo is repo and head_ref == base_ref:
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                          "message": f"No commits between {base_ref} and {head_ref}"}])
        for other in self.state.pulls.values():
            if (other.repo, other.head_repo, other.head_ref, other.base_ref) == (
                    repo.full_name, head_repo.full_name, head_ref, base_ref) and \
                    self.state.issues[(other.repo, other.number)].state == "open":
                raise GitHubError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                    "message": f"A pull request already exists for {head_repo.owner}:{head_ref}."}])
        number = self.state.next_number(repo)
        issue = Issue(self.state.next_id(), repo.full_name, number, title, body, user, is_pull=True,
                      created_at=self.state.now_iso())
        pr = PullRequest(self.state.next_id(), repo.full_name, number, head_repo.full_name, head_ref,
                         base_ref, maintainer_can_modify=maintainer_can_modify and head_repo is not repo, draft=draft)
        self.state.issues[(repo.full_name, number)] = issue
        self.state.pulls[(repo.full_name, number)] = pr
        self.emit("pull_request", repo, user, {"action": "opened", "number": number,
                                               "pull_request": self.payloads.pull_request(pr, self.pr_files(pr))})
        return pr

    def pull(self, repo: Repo, number: int) -> PullRequest:
        pr = self.state.pulls.get((repo.full_name, number))
        if pr is None:
            raise not_found()
        return pr

    # -- issues -----------------------------------------------------------------------------

    def issue(self, repo: Repo, number: int) -> Issue:
        issue = self.state.issues.get((repo.full_name, number))
        if issue is None:
            raise not_found()
        return issue

    def create_issue(self, repo: Repo, title: str, body: str | None, user: str,
                     labels: list[str] | None = None) -> Issue:
        if not title:
            raise validation_failed("Issue", "title", "missing_field")
        number = self.state.next_number(repo)
        issue = Issue(self.state.next_id(), repo.full_name, number, str(title), body, user,
                      created_at=self.state.now_iso())
        self.state.issues[(repo.full_name, number)] = issue
        if labels and self.state.permission(repo, user) in ("write", "admin"):
            issue.labels = [Label(self.state.next_id(), name) for name in labels]
        self.emit("issues", repo, user, {"action": "opened", "issue": self.payloads.issue(issue)})
        return issue

    def set_issue_state(self, repo: Repo, issue: Issue, state: str, user: str, reason: str | None = None) -> None:
        if issue.state == state:
            return
        issue.state = state
        issue.updated_at = self.state.now_iso()
        issue.closed_at = issue.updated_at if state == "closed" else None
        issue.state_reason = (reason or "completed") if state == "closed" else "reopened"
        action = "closed" if state == "closed" else "reopened"
        if issue.is_pull:
            pr = self.state.pulls[(issue.repo, issue.number)]
            self.emit("pull_request", repo, user, {"action": action, "number": issue.number,
                                                   "pull_request": self.payloads.pull_request(pr, self.pr_files(pr))})
        else:
            self.emit("issues", repo, user, {"action": action, "issue": self.payloads.issue(issue)})

    def add_labels(self, repo: Repo, issue: Issue, names: list[str], user: str) -> None:
        for name in names:
            if any(label.name == name for label in issue.labels):
                continue
            label = Label(self.state.next_id(), name)
            issue.labels.append(label)
            issue.updated_at = self.state.now_iso()
            self.emit("issues", repo, user, {"action": "labeled", "issue": self.payloads.issue(issue),
                                             "label": self.payloads.label(repo, label)})

    def create_issue_comment(self, repo: Repo, number: int, body: str, user: str,
                             via_app: int | None = None) -> IssueComment:
        issue = self.issue(repo, number)
        if not body:
            raise validation_failed("IssueComment", "body", "missing_field")
        comment = IssueComment(self.state.next_id(), repo.full_name, number, user, body, via_app=via_app,
                               created_at=self.state.now_iso())
        self.state.issue_comments[comment.id] = comment
        issue.updated_at = self.state.now_iso()
        self._issue_comment_event("created", repo, comment, user)
        return comment

    def issue_comment(self, repo: Repo, comment_id: int) -> IssueComment:
        comment = self.state.issue_comments.get(comment_id)
        if comment is None or comment.repo != repo.full_name:
            raise not_found()
        return comment

    def edit_issue_comment(self, repo: Repo, comment: IssueComment, body: str, user: str) -> None:
        if not body:
            raise validation_failed("IssueComment", "body", "missing_field")
        previous, comment.body, comment.updated_at = comment.body, body, self.state.now_iso()
        self._issue_comment_event("edited", repo, comment, user, {"changes": {"body": {"from": previous}}})

    def delete_issue_comment(self, repo: Repo, comment: IssueComment, user: str) -> None:
        del self.state.issue_comments[comment.id]
        self._issue_comment_event("deleted", repo, comment, user)

    def _issue_comment_event(self, action: str, repo: Repo, comment: IssueComment, user: str,
                             extra: Json | None = None) -> None:
        issue = self.state.issues[(comment.repo, comment.issue_number)]
        self.emit("issue_comment", repo, user, {"action": action, **(extra or {}),
                                                "issue": self.payloads.issue(issue),
                                                "comment": self.payloads.issue_comment(comment)})

    # -- review comments and reviews --------------------------------------------------------

    def anchor(self, pr: PullRequest, path: str, line: int | None, side: str, commit_id: str,
               subject_type: str) -> tuple[int | None, str]:
        """(position, diff_hunk) for a comment, or 422 as GitHub when the line is not in the diff."""
        change = next((f for f in self.pr_files(pr, commit_id) if f.path == path), None)
        if change is None:
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequestReviewComment", "code": "custom",
                              "field": "pull_request_review_thread.path", "message": "could not be resolved"}])
        if subject_type == "file":
            return None, "\n".join(change.patch.splitlines()[:1])
        anchor = anchor_in_patch(change.patch, line or 0, side)
        if anchor is None:
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequestReviewComment", "code": "custom",
                              "field": "pull_request_review_thread.line", "message": "could not be resolved"}])
        return anchor.position, anchor.diff_hunk

    def add_review_comment(self, pr: PullRequest, user: str, body: str, path: str, line: int | None,
                           side: str = "RIGHT", start_line: int | None = None, start_side: str | None = None,
                           commit_id: str | None = None, subject_type: str = "line",
                           review: Review | None = None) -> ReviewComment:
        """A new top-level review comment (a new thread). Without `review`, GitHub wraps it in
        a one-comment COMMENTED review and sends pull_request_review.submitted too."""
        if not body:
            raise validation_failed("PullRequestReviewComment", "body", "missing_field")
        if line is None and subject_type != "file":
            raise validation_failed("PullRequestReviewComment", "line", "missing_field")
        repo = self.state.repo_named(pr.repo)
        commit = commit_id or self.payloads.head_sha(pr)
        if commit not in repo.store.commits:
            raise validation_failed("PullRequestReviewComment", "commit_id", "invalid")
        position, hunk = self.anchor(pr, path, line, side, commit, subject_type)
        if start_line is not None:
            self.anchor(pr, path, start_line, start_side or side, commit, subject_type)
        own_review = review is None
        if review is None:
            review = self._new_review(pr, user, "", "COMMENTED", commit)
        comment = ReviewComment(
            self.state.next_id(), pr.repo, pr.number, review.id, user, body, path, commit, commit, hunk,
            line, line, position, position, side, start_line, start_line,
            (start_side or side) if start_line is not None else None, subject_type=subject_type,
            created_at=self.state.now_iso())
        self.state.review_comments[comment.id] = comment
        thread = Thread(self.state.next_id(), pr.repo, pr.number, comment.id)
        self.state.threads[thread.id] = thread
        self._review_comment_event("created", repo, pr, comment, user)
        if own_review:
            self._review_event("submitted", repo, pr, review, user)
        return comment

    def reply(self, pr: PullRequest, to_comment_id: int, body: str, user: str) -> ReviewComment:
        """A reply in a thread; only the thread's first comment can be replied to, as on GitHub."""
        target = self.state.review_comments.get(to_comment_id)
        if target is None or target.repo != pr.repo or target.pr_number != pr.number:
            raise not_found()
        if target.in_reply_to_id is not None:
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequestReviewComment", "code": "custom",
                              "field": "in_reply_to", "message": "Replies to replies are not supported"}])
        if not body:
            raise validation_failed("PullRequestReviewComment", "body", "missing_field")
        repo = self.state.repo_named(pr.repo)
        review = self._new_review(pr, user, "", "COMMENTED", target.commit_id)
        comment = ReviewComment(
            self.state.next_id(), pr.repo, pr.number, review.id, user, body, target.path, target.commit_id,
            target.original_commit_id, target.diff_hunk, target.line, target.original_line, target.position,
            target.original_position, target.side, target.start_line, target.original_start_line,
            target.start_side, in_reply_to_id=target.id, subject_type=target.subject_type,
            created_at=self.state.now_iso())
        self.state.review_comments[comment.id] = comment
        self._review_comment_event("created", repo, pr, comment, user)
        self._review_event("submitted", repo, pr, review, user)
        return comment

    def review_comment(self, repo: Repo, comment_id: int) -> ReviewComment:
        comment = self.state.review_comments.get(comment_id)
        if comment is None or comment.repo != repo.full_name:
            raise not_found()
        return comment

    def edit_review_comment(self, repo: Repo, comment: ReviewComment, body: str, user: str) -> None:
        if not body:
            raise validation_failed("PullRequestReviewComment", "body", "missing_field")
        previous, comment.body, comment.updated_at = comment.body, body, self.state.now_iso()
        pr = self.state.pulls[(comment.repo, comment.pr_number)]
        self._review_comment_event("edited", repo, pr, comment, user, {"changes": {"body": {"from": previous}}})

    def delete_review_comment(self, repo: Repo, comment: ReviewComment, user: str) -> None:
        pr = self.state.pulls[(comment.repo, comment.pr_number)]
        payload_comment = self.payloads.review_comment(comment)
        del self.state.review_comments[comment.id]
        for thread in [t for t in self.state.threads.values() if t.root_comment_id == comment.id]:
            replies = [c for c in self.state.review_comments.values() if c.in_reply_to_id == comment.id]
            if not replies:
                del self.state.threads[thread.id]
        self.emit("pull_request_review_comment", repo, user, {
            "action": "deleted", "comment": payload_comment, "pull_request": self.payloads.simple_pull_request(pr)})

    def _review_comment_event(self, action: str, repo: Repo, pr: PullRequest, comment: ReviewComment,
                              user: str, extra: Json | None = None) -> None:
        self.emit("pull_request_review_comment", repo, user, {
            "action": action, **(extra or {}), "comment": self.payloads.review_comment(comment),
            "pull_request": self.payloads.simple_pull_request(pr)})

    def _new_review(self, pr: PullRequest, user: str, body: str, state: str, commit: str) -> Review:
        review = Review(self.state.next_id(), pr.repo, pr.number, user, body, state, commit,
                        submitted_at=self.state.now_iso())
        self.state.reviews[review.id] = review
        return review

    def _review_event(self, action: str, repo: Repo, pr: PullRequest, review: Review, user: str) -> None:
        self.emit("pull_request_review", repo, user, {
            "action": action, "review": self.payloads.review(review, webhook=True),
            "pull_request": self.payloads.simple_pull_request(pr)})

    def submit_review(self, pr: PullRequest, user: str, body: str | None, event: str,
                      comments: list[dict[str, Any]] | None = None, commit_id: str | None = None) -> Review:
        """A review with optional line comments (each `{path, line, body, side?, start_line?}`)."""
        state = REVIEW_EVENTS.get(event or "COMMENT")
        if state is None:
            raise validation_failed("PullRequestReview", "event", "invalid")
        if state in ("CHANGES_REQUESTED", "COMMENTED") and not body and not comments:
            raise GitHubError(422, "Unprocessable Entity", [
                f"Review body is required when event is {event}"])
        issue = self.state.issues[(pr.repo, pr.number)]
        if state != "COMMENTED" and user == issue.user:
            raise GitHubError(422, "Unprocessable Entity", [
                f"Can not {'approve' if state == 'APPROVED' else 'request changes on'} your own pull request"])
        repo = self.state.repo_named(pr.repo)
        commit = commit_id or self.payloads.head_sha(pr)
        for spec in comments or []:  # validate every comment before writing any
            self.anchor(pr, spec["path"], spec.get("line"), spec.get("side", "RIGHT"), commit,
                        spec.get("subject_type", "line"))
        review = self._new_review(pr, user, body or "", state, commit)
        for spec in comments or []:
            self.add_review_comment(pr, user, spec["body"], spec["path"], spec.get("line"),
                                    spec.get("side", "RIGHT"), spec.get("start_line"), spec.get("start_side"),
                                    commit, spec.get("subject_type", "line"), review=review)
        self._review_event("submitted", repo, pr, review, user)
        return review

    def _carry_comments_forward(self, pr: PullRequest, new_head: str) -> None:
        """After a push: comments whose file is unchanged move to the new head; others go outdated."""
        repo = self.state.repo_named(pr.repo)
        files = {f.path: f for f in self.pr_files(pr, new_head)}
        for comment in self.state.review_comments.values():
            if (comment.repo, comment.pr_number) != (pr.repo, pr.number) or comment.line is None:
                continue
            old = repo.store.entry_at(repo.store.commits[comment.commit_id].tree, comment.path)
            new = repo.store.entry_at(repo.store.commits[new_head].tree, comment.path)
            change = files.get(comment.path)
            anchor = anchor_in_patch(change.patch, comment.line, comment.side) if change else None
            if old is not None and new is not None and old.sha == new.sha and anchor is not None:
                comment.commit_id, comment.position = new_head, anchor.position
            else:
                comment.line = comment.position = None
                comment.start_line = None

    # -- threads, reactions, minimising -----------------------------------------------------

    def set_thread_resolved(self, thread: Thread, resolved: bool, user: str) -> None:
        if thread.resolved == resolved:
            return
        thread.resolved, thread.resolved_by = resolved, (user if resolved else None)
        repo = self.state.repo_named(thread.repo)
        pr = self.state.pulls[(thread.repo, thread.pr_number)]
        self.emit("pull_request_review_thread", repo, user, {
            "action": "resolved" if resolved else "unresolved",
            "thread": self.payloads.thread(thread), "pull_request": self.payloads.simple_pull_request(pr)})

    def react(self, subject: tuple[str, int], content: str, user: str) -> tuple[Reaction, bool]:
        """Add a reaction; returns (reaction, created). GitHub sends no webhook for reactions."""
        if content not in REACTION_CONTENTS:
            raise validation_failed("Reaction", "content", "invalid")
        for reaction in self.state.reactions.values():
            if reaction.subject == subject and reaction.user == user and reaction.content == content:
                return reaction, False
        reaction = Reaction(self.state.next_id(), user, content, subject, created_at=self.state.now_iso())
        self.state.reactions[reaction.id] = reaction
        return reaction, True

    def minimize(self, kind: str, comment_id: int, reason: str | None) -> None:
        table = self.state.issue_comments if kind == "IC" else self.state.review_comments
        table[comment_id].minimized_reason = reason
