"""How the intake lanes deliveries: one lane per PR."""
from __future__ import annotations

import json
from pathlib import Path

from bot.service.runtime.intake import lane_of

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "service"


def test_a_pr_event_and_a_pr_conversation_comment_share_the_prs_lane() -> None:
    review_comment = json.loads((FIXTURES / "pull_request_review_comment.created.json").read_text())
    conversation = json.loads((FIXTURES / "issue_comment.created.with-installation.json").read_text())
    assert lane_of(review_comment, "Codertocat/Hello-World") == "Codertocat/Hello-World#2"
    conversation["issue"]["number"] = 2
    assert lane_of(conversation, "Codertocat/Hello-World") == "Codertocat/Hello-World#2"


def test_events_without_a_pr_fall_back_to_repository_installation_then_app() -> None:
    assert lane_of({"number": 5}, "o/r") == "o/r#5"
    assert lane_of({"ref": "refs/heads/main"}, "o/r") == "o/r"
    assert lane_of({"installation": {"id": 9}}, None) == "installation:9"
    ping = json.loads((FIXTURES / "ping.json").read_text())
    assert lane_of(ping, None) == "app"
