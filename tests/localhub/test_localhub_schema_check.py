"""The schema check itself must reject what octokit's schemas reject, or the webhook tests prove nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import ValidationError

EXAMPLE = Path(__file__).parents[1] / "fixtures" / "schemas" / "examples" / "pull_request_review_comment.created.with-organization.json"


def test_a_real_payload_passes_and_a_broken_one_fails(validate_webhook):
    payload = json.loads(EXAMPLE.read_text())
    assert validate_webhook("pull_request_review_comment", payload) is True
    payload["comment"]["author_association"] = "FRIEND"
    with pytest.raises(ValidationError):
        validate_webhook("pull_request_review_comment", payload)
    del payload["comment"]
    with pytest.raises(ValidationError):
        validate_webhook("pull_request_review_comment", payload)


def test_events_without_a_kept_schema_are_reported_as_unchecked(validate_webhook):
    assert validate_webhook("push", {"ref": "refs/heads/main"}) is False
