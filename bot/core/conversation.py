"""Folding a PR's review conversation into question records (pure).

The webhook handlers apply one comment at a time; `sync` replays a PR's whole history.
Both go through `apply_comment`, so a full replay gives the same records as the webhooks
would have, whatever order they arrived in.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Comment:
    """A comment on the PR, normalised from a webhook payload or a REST listing."""

    id: int
    kind: str  # "review_comment" | "issue_comment" | "review"
    body: str
    author: str
    association: str  # GitHub author_association
    author_is_bot: bool
    created_at: str  # ISO 8601
    updated_at: str
    url: str
    path: str | None = None  # review comments only
    line: int | None = None  # line in the head version of the file (None when outdated)
    original_line: int | None = None
    in_reply_to_id: int | None = None  # the thread's first comment, for replies
    node_id: str | None = None
