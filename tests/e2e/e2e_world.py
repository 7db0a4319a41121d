"""The world the end-to-end tests share: who is who, the fixture document, a view of the PR."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.sandbox import REPO, Sandbox
from bot.store.folder import FolderStore
from bot.store.pull_state import load_pull_state, pull_directory

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "documents" / "cloudstack-shaped.md"
DOC = "draft-THREAT-MODEL.md"
AUTHOR = "asf-sec"  # opens the PR; not a member of the org
PASSERBY = "passerby"  # a GitHub user with no role in the project
MAINTAINERS = {"daan": "member", "vish": "member"}
BRANCH = "threat-model"


@dataclass
class Review:
    box: Sandbox
    number: int
    state_dir: Path

    @property
    def hub(self):
        return self.box.hub

    def records(self) -> dict:
        return FolderStore(pull_directory(self.state_dir, REPO, self.number) / "questions").load()

    def state(self):
        return load_pull_state(self.state_dir, REPO, self.number)

    def line_of(self, question_id: str) -> int:
        return self.state().spans[question_id][0]

    def bot_comments(self) -> list:
        return [c for c in self.hub.state.review_comments.values() if c.user.endswith("[bot]")]




def bot_issues(hub) -> list:
    """Issues (not PRs) the App opened."""
    return [issue for issue in hub.state.issues.values() if not issue.is_pull and issue.user.endswith("[bot]")]


async def thread_on(review: Review, question_id: str, body: str | None = None, *, user: str = AUTHOR) -> int:
    """Open a review thread on the question's first line (as the PR author); returns its root id."""
    root = review.hub.review_comment(REPO, review.number, DOC, review.line_of(question_id), body or f"{question_id}?", user=user)
    await review.box.settle()
    return root


def answers_by(record: dict, login: str) -> list[dict]:
    return [answer for answer in record.get("answers") or () if answer.get("author") == login]


def notice_in(review: Review, root: int):
    """The bot's one notice in the thread started by `root` (asserting there is exactly one)."""
    notices = [c for c in review.bot_comments() if c.in_reply_to_id == root]
    assert len(notices) == 1, [c.body[:80] for c in notices]
    return notices[0]


def writes_since(hub, start: int) -> list:
    """Write requests (anything but GET; GraphQL counts, mutations or not) since `start`, token minting excluded."""
    return [r for r in hub.requests[start:] if r.method != "GET" and not r.path.startswith("/app/")]


def api_calls_since(hub, start: int) -> list:
    return [r for r in hub.requests[start:] if not r.path.startswith("/app/")]
