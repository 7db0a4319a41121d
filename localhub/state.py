"""The local GitHub's world as plain data: users, orgs, repositories, PRs, comments, tokens.

No HTTP here. Routes and the act-as-a-person API read and change this state through
`localhub.actions`, which also emits the webhooks, so both paths behave the same.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from localhub.clock import Clock, RealClock, github_time
from localhub.git import ObjectStore

PERMISSION_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # User | Organization | Bot
    name: str | None = None
    email: str | None = None


@dataclass
class Org:
    user: User  # the organisation's account (type Organization)
    members: dict[str, str] = field(default_factory=dict)  # login -> "member" | "admin"
    description: str | None = None


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    store: ObjectStore
    default_branch: str = "main"
    private: bool = False
    description: str | None = None
    refs: dict[str, str] = field(default_factory=dict)  # "heads/main" -> commit sha
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> permission
    contributors: set[str] = field(default_factory=set)  # logins with a commit here
    fork_of: str | None = None  # full name of the parent
    created_at: str = field(kw_only=True)
    updated_at: str = field(default="", kw_only=True)
    pushed_at: str = field(default="", kw_only=True)

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at
        self.pushed_at = self.pushed_at or self.created_at

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class Issue:
    """An issue, or the issue half of a pull request (they share one number sequence)."""

    id: int
    repo: str  # full name
    number: int
    title: str
    body: str | None
    user: str
    is_pull: bool = False
    state: str = "open"
    state_reason: str | None = None
    labels: list[Label] = field(default_factory=list)
    created_at: str = field(kw_only=True)
    updated_at: str = field(default="", kw_only=True)
    closed_at: str | None = None

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at  # unchanged since it was made


@dataclass
class PullRequest:
    id: int
    repo: str  # base repository full name
    number: int
    head_repo: str  # full name (a fork, or the base repo itself)
    head_ref: str  # branch name
    base_ref: str
    maintainer_can_modify: bool = False
    draft: bool = False
    merged: bool = False
    merged_at: str | None = None


@dataclass
class IssueComment:
    id: int
    repo: str
    issue_number: int
    user: str
    body: str
    created_at: str = field(kw_only=True)
    updated_at: str = field(default="", kw_only=True)
    minimized_reason: str | None = None
    via_app: int | None = None  # app id when posted with an installation token

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at  # unchanged since it was made


@dataclass
class ReviewComment:
    id: int
    repo: str
    pr_number: int
    review_id: int | None
    user: str
    body: str
    path: str
    commit_id: str
    original_commit_id: str
    diff_hunk: str
    line: int | None
    original_line: int | None
    position: int | None
    original_position: int | None
    side: str = "RIGHT"
    start_line: int | None = None
    original_start_line: int | None = None
    start_side: str | None = None
    in_reply_to_id: int | None = None
    subject_type: str = "line"
    created_at: str = field(kw_only=True)
    updated_at: str = field(default="", kw_only=True)
    minimized_reason: str | None = None

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at  # unchanged since it was made


@dataclass
class Review:
    id: int
    repo: str
    pr_number: int
    user: str
    body: str
    state: str  # REST spelling: COMMENTED | APPROVED | CHANGES_REQUESTED | DISMISSED
    commit_id: str
    submitted_at: str = field(kw_only=True)


@dataclass
class Thread:
    """A review thread: a top-level review comment plus its replies."""

    id: int
    repo: str
    pr_number: int
    root_comment_id: int
    resolved: bool = False
    resolved_by: str | None = None


@dataclass
class Reaction:
    id: int
    user: str
    content: str
    subject: tuple[str, int]  # ("review_comment" | "issue_comment", comment id)
    created_at: str = field(kw_only=True)


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: str
    public_key_pem: bytes
    bot_login: str  # "<slug>[bot]"
    created_at: str = field(kw_only=True)


@dataclass
class Installation:
    id: int
    app_id: int
    account: str  # user or org login
    repositories: set[str] | None = None  # None = all repositories of the account
    created_at: str = field(kw_only=True)


@dataclass
class Token:
    value: str
    kind: str  # "installation" | "personal"
    expires_at: float | None  # epoch seconds; None = never
    installation_id: int | None = None
    login: str | None = None  # for personal tokens


@dataclass
class ManifestCode:
    """A manifest a person submitted on the "new App" page, waiting for its one-time code to be
    exchanged (POST /app-manifests/{code}/conversions) within the hour."""

    manifest: dict[str, object]
    owner: str  # the organization or user the App will belong to
    created_at: float  # epoch seconds


@dataclass
class HubState:
    """Everything the local GitHub knows, keyed for direct lookup."""

    users: dict[str, User] = field(default_factory=dict)
    orgs: dict[str, Org] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)  # lower-case full name -> repo
    issues: dict[tuple[str, int], Issue] = field(default_factory=dict)
    pulls: dict[tuple[str, int], PullRequest] = field(default_factory=dict)
    issue_comments: dict[int, IssueComment] = field(default_factory=dict)
    review_comments: dict[int, ReviewComment] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    threads: dict[int, Thread] = field(default_factory=dict)
    reactions: dict[int, Reaction] = field(default_factory=dict)
    apps: dict[int, App] = field(default_factory=dict)
    installations: dict[int, Installation] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    manifest_codes: dict[str, ManifestCode] = field(default_factory=dict)
    clock: Clock = field(default_factory=RealClock)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))

    def next_id(self) -> int:
        return next(self._ids)

    def now_iso(self) -> str:
        """Now, as GitHub stamps a thing it makes or changes."""
        return github_time(self.clock.now())

    def now_epoch(self) -> float:
        """Now, in epoch seconds: for expiry and rate-limit windows."""
        return self.clock.now().timestamp()

    # -- lookups ----------------------------------------------------------------------------

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def repo_named(self, full_name: str) -> Repo:
        return self.repos[full_name.lower()]

    def user(self, login: str) -> User:
        return self.users[login]

    def next_number(self, repo: Repo) -> int:
        return 1 + max((n for (r, n) in self.issues if r == repo.full_name), default=0)

    def thread_of(self, comment_id: int) -> Thread | None:
        root = self.review_comments[comment_id]
        root_id = root.in_reply_to_id or root.id
        return next((t for t in self.threads.values() if t.root_comment_id == root_id), None)

    def installation_for(self, repo: Repo) -> Installation | None:
        for installation in self.installations.values():
            if installation.account.lower() != repo.owner.lower():
                continue
            if installation.repositories is None or repo.name in installation.repositories:
                return installation
        return None

    # -- who may do what --------------------------------------------------------------------

    def role(self, repo: Repo, login: str) -> str:
        """The highest role `login` holds on `repo` from any grant (repository, organization,
        installation, public read): admin, maintain, write, triage, read or none."""
        if login.lower() == repo.owner.lower():
            return "admin"
        installation = self.installation_for(repo)
        if installation and self.apps[installation.app_id].bot_login == login:
            return "write"  # an App writes where it is installed (contents/issues/pull_requests: write)
        granted = [repo.collaborators.get(login, "none")]
        org = self.orgs.get(repo.owner)
        if org and login in org.members:
            granted.append("admin" if org.members[login] == "admin" else "read")
        if not repo.private:
            granted.append("read")
        return max(granted, key=PERMISSION_RANK.__getitem__)

    def permission(self, repo: Repo, login: str) -> str:
        """The legacy base role, as GET .../collaborators/{u}/permission reports it."""
        role = self.role(repo, login)
        return {"maintain": "write", "triage": "read"}.get(role, role)

    def author_association(self, repo: Repo, login: str) -> str:
        """OWNER / MEMBER / COLLABORATOR / CONTRIBUTOR / NONE, in GitHub's order of precedence."""
        if login.lower() == repo.owner.lower():
            return "OWNER"
        org = self.orgs.get(repo.owner)
        if org and login in org.members:
            return "MEMBER"
        if login in repo.collaborators:
            return "COLLABORATOR"
        if login in repo.contributors:
            return "CONTRIBUTOR"
        return "NONE"
