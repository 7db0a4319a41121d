"""`python -m bot sync`: the pure helpers first, then full runs over the local GitHub."""
from __future__ import annotations

import argparse
from pathlib import Path

from bot.commands.sync import find_document, history_comments, questions_directory
from bot.github.batch import PullRequestHistory

DEFAULT_GLOB = "**/*THREAT*MODEL*.md"


def test_find_document_matches_root_and_nested_files() -> None:
    assert find_document(["README.md", "draft-THREAT-MODEL.md"], DEFAULT_GLOB) == "draft-THREAT-MODEL.md"
    assert find_document(["src/x.java", "docs/security/THREAT_MODEL.md"], DEFAULT_GLOB) == "docs/security/THREAT_MODEL.md"
    assert find_document(["README.md", "SECURITY.md"], DEFAULT_GLOB) is None


def test_find_document_with_an_exact_configured_path() -> None:
    files = ["THREAT_MODEL.md", "security/THREAT-MODEL.md"]
    assert find_document(files, "security/THREAT-MODEL.md") == "security/THREAT-MODEL.md"


def _user(login: str) -> dict:
    return {"login": login, "type": "User"}


def test_history_is_one_chronological_stream_without_pending_reviews() -> None:
    history = PullRequestHistory(
        review_comments=(
            {"id": 30, "body": "Q9: yes", "user": _user("a"), "created_at": "2026-06-11T09:00:00Z",
             "path": "draft-THREAT-MODEL.md", "line": 978, "html_url": "u30"},
            {"id": 31, "body": "agreed", "user": _user("b"), "created_at": "2026-06-11T09:00:00Z",
             "path": "draft-THREAT-MODEL.md", "line": 978, "in_reply_to_id": 30, "html_url": "u31"},
        ),
        reviews=(
            {"id": 40, "body": "overall fine", "user": _user("a"), "state": "COMMENTED",
             "submitted_at": "2026-06-12T10:00:00Z", "html_url": "u40"},
            {"id": 41, "body": "draft", "user": _user("c"), "state": "PENDING", "submitted_at": None},
        ),
        issue_comments=(
            {"id": 20, "body": "/questions help", "user": _user("c"), "created_at": "2026-06-10T08:00:00Z",
             "html_url": "u20"},
        ),
    )
    comments = history_comments(history)
    assert [(comment.kind, comment.id) for comment in comments] == [
        ("issue_comment", 20),
        ("review_comment", 30),  # same second as 31: the id breaks the tie
        ("review_comment", 31),
        ("review", 40),
    ]
    assert comments[2].in_reply_to_id == 30


def test_questions_directory_defaults_and_state_dir(tmp_path: Path) -> None:
    def namespace(**values) -> argparse.Namespace:
        return argparse.Namespace(**{"repo": "apache/cloudstack", "pr": 13293, "questions": None,
                                     "state_dir": None, **values})

    assert questions_directory(namespace()) == Path("questions")
    assert questions_directory(namespace(questions=tmp_path / "q")) == tmp_path / "q"
    assert questions_directory(namespace(state_dir=tmp_path)) == (
        tmp_path / "repos" / "apache" / "cloudstack" / "pulls" / "13293" / "questions"
    )
