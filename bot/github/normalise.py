"""Turn GitHub comment JSON (REST listings or webhook payloads) into `Comment`.

One function per kind, shared by the webhook service and the `sync` job, so that a comment
reads the same whichever way it reached us. Plain dicts in: from a PyGithub object pass its
raw JSON, never the object itself. The REST and webhook shapes of a comment are the same
object (GitHub documents the webhook `comment` as having the REST fields), so one function
covers both.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.conversation import Comment

REVIEW_COMMENT = "review_comment"
ISSUE_COMMENT = "issue_comment"
REVIEW = "review"

# A deleted account shows up as `user: null`; GitHub's own UI calls it "ghost".
GHOST_LOGIN = "ghost"


def comment_from_review_comment(payload: Mapping[str, Any]) -> Comment:
    """A diff-line comment (`pull_request_review_comment` / `GET .../pulls/N/comments`)."""
    login, is_bot = _author(payload)
    return Comment(
        id=int(payload["id"]),
        kind=REVIEW_COMMENT,
        body=payload.get("body") or "",
        author=login,
        association=payload.get("author_association") or "NONE",
        author_is_bot=is_bot,
        created_at=payload.get("created_at") or "",
        updated_at=payload.get("updated_at") or payload.get("created_at") or "",
        url=payload.get("html_url") or payload.get("url") or "",
        path=payload.get("path"),
        line=_optional_int(payload.get("line")),
        original_line=_optional_int(payload.get("original_line")),
        in_reply_to_id=_optional_int(payload.get("in_reply_to_id")),
        node_id=payload.get("node_id"),
    )


def comment_from_issue_comment(payload: Mapping[str, Any]) -> Comment:
    """A PR conversation comment (`issue_comment` / `GET .../issues/N/comments`)."""
    login, is_bot = _author(payload)
    return Comment(
        id=int(payload["id"]),
        kind=ISSUE_COMMENT,
        body=payload.get("body") or "",
        author=login,
        association=payload.get("author_association") or "NONE",
        author_is_bot=is_bot,
        created_at=payload.get("created_at") or "",
        updated_at=payload.get("updated_at") or payload.get("created_at") or "",
        url=payload.get("html_url") or payload.get("url") or "",
        node_id=payload.get("node_id"),
    )


def comment_from_review(payload: Mapping[str, Any]) -> Comment:
    """A review's summary body (`pull_request_review` / `GET .../pulls/N/reviews`).

    Reviews carry no created/updated time, only `submitted_at` (null while pending), and
    their body is null when the reviewer wrote nothing; that becomes an empty body which
    the fold simply finds nothing in.
    """
    login, is_bot = _author(payload)
    submitted_at = payload.get("submitted_at") or ""
    return Comment(
        id=int(payload["id"]),
        kind=REVIEW,
        body=payload.get("body") or "",
        author=login,
        association=payload.get("author_association") or "NONE",
        author_is_bot=is_bot,
        created_at=submitted_at,
        updated_at=submitted_at,
        url=payload.get("html_url") or "",
        node_id=payload.get("node_id"),
    )


def is_pending_review(payload: Mapping[str, Any]) -> bool:
    """A review not yet submitted is visible only to its author: nobody has said it yet."""
    return str(payload.get("state") or "").upper() == "PENDING" or not payload.get("submitted_at")


def _author(payload: Mapping[str, Any]) -> tuple[str, bool]:
    user = payload.get("user")
    if not user:
        return GHOST_LOGIN, False
    login = str(user.get("login") or GHOST_LOGIN)
    # Apps post as `<slug>[bot]` with type "Bot"; either sign is enough.
    is_bot = user.get("type") == "Bot" or login.endswith("[bot]")
    return login, is_bot


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
