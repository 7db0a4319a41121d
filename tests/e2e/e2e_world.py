"""The world the end-to-end tests share: who is who, the fixture document, a view of the PR."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.sandbox import REPO, Sandbox
from bot.store.pull_state import load_pull_state, pull_directory
from bot.store.folder import FolderStore

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
