"""Normalising GitHub comment JSON: webhook payloads and REST listings read the same."""
from __future__ import annotations

import json
from pathlib import Path

from bot.core.conversation import Comment
from bot.github.normalise import (
    GHOST_LOGIN,
    comment_from_issue_comment,
    comment_from_review,
    comment_from_review_comment,
    is_pending_review,
)

# Byte-exact octokit/webhooks examples and GitHub OpenAPI response examples.
FIXTURES = Path(__file__).parent.parent / "fixtures" / "normalise"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_review_comment_webhook_payload() -> None:
    payload = load("pull_request_review_comment.created.json")["comment"]
    comment = comment_from_review_comment(payload)
    assert comment == Comment(
        id=284312630,
        kind="review_comment",
        body="Maybe you should use more emoji on this line.",
        author="Codertocat",
        association="OWNER",
        author_is_bot=False,
        created_at="2019-05-15T15:20:37Z",
        updated_at="2019-05-15T15:20:38Z",
        url="https://github.com/Codertocat/Hello-World/pull/2#discussion_r284312630",
        path="README.md",
        line=265,
        original_line=265,
        in_reply_to_id=None,
        node_id="MDI0OlB1bGxSZXF1ZXN0UmV2aWV3Q29tbWVudDI4NDMxMjYzMA==",
    )


def test_review_comment_rest_listing_keeps_the_thread_link() -> None:
    listed = load("pulls.list-review-comments.200.json")[0]
    comment = comment_from_review_comment(listed)
    assert (comment.id, comment.in_reply_to_id, comment.line, comment.path) == (
        listed["id"],
        listed["in_reply_to_id"],
        listed["line"],
        listed["path"],
    )
    assert comment.url == listed["html_url"]
    assert comment.kind == "review_comment"


def test_webhook_and_rest_shapes_of_one_comment_normalise_alike() -> None:
    # The webhook `comment` is the REST object plus webhook-only nullability: stripping the
    # keys the REST listing lacks must not change what we read.
    payload = load("pull_request_review_comment.created.with-organization.json")["comment"]
    trimmed = {key: value for key, value in payload.items() if key not in ("_links", "reactions", "diff_hunk")}
    assert comment_from_review_comment(payload) == comment_from_review_comment(trimmed)


def test_outdated_review_comment_has_no_current_line() -> None:
    payload = dict(load("pull_request_review_comment.created.json")["comment"])
    payload["line"] = None
    comment = comment_from_review_comment(payload)
    assert comment.line is None
    assert comment.original_line == 265


def test_issue_comment_webhook_payload() -> None:
    payload = load("issue_comment.created.json")["comment"]
    comment = comment_from_issue_comment(payload)
    assert comment.kind == "issue_comment"
    assert comment.id == 492700400
    assert comment.author == "Codertocat"
    assert comment.body == "You are totally right! I'll get this fixed right away."
    assert comment.url == "https://github.com/Codertocat/Hello-World/issues/1#issuecomment-492700400"
    assert (comment.path, comment.line, comment.in_reply_to_id) == (None, None, None)


def test_issue_comment_rest_listing() -> None:
    listed = load("issues.list-comments.200.json")[0]
    comment = comment_from_issue_comment(listed)
    assert (comment.id, comment.body, comment.author) == (1, "Me too", "octocat")
    assert comment.association == listed["author_association"]


def test_review_uses_submitted_at_and_tolerates_empty_body() -> None:
    payload = load("pull_request_review.submitted.json")["review"]
    comment = comment_from_review(payload)
    assert comment.kind == "review"
    assert comment.body == ""  # the example review was submitted without a body
    assert comment.created_at == comment.updated_at == "2019-05-15T15:20:38Z"
    assert comment.url == "https://github.com/Codertocat/Hello-World/pull/2#pullrequestreview-237895671"
    assert not is_pending_review(payload)


def test_pending_review_is_recognised() -> None:
    payload = dict(load("pull_request_review.submitted.json")["review"])
    payload.update(state="PENDING", submitted_at=None)
    assert is_pending_review(payload)


def test_bot_authors_are_flagged_by_type_or_login() -> None:
    payload = dict(load("issue_comment.created.json")["comment"])
    payload["user"] = {"login": "threat-model-bot[bot]", "type": "Bot"}
    assert comment_from_issue_comment(payload).author_is_bot
    payload["user"] = {"login": "dependabot[bot]", "type": "User"}
    assert comment_from_issue_comment(payload).author_is_bot
    payload["user"] = {"login": "vishesh92", "type": "User"}
    assert not comment_from_issue_comment(payload).author_is_bot


def test_deleted_account_reads_as_ghost() -> None:
    payload = dict(load("pull_request_review_comment.created.json")["comment"])
    payload["user"] = None
    comment = comment_from_review_comment(payload)
    assert comment.author == GHOST_LOGIN
    assert not comment.author_is_bot


def test_missing_association_reads_as_none() -> None:
    payload = dict(load("issue_comment.created.json")["comment"])
    del payload["author_association"]
    assert comment_from_issue_comment(payload).association == "NONE"
