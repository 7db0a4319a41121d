"""The intake's summary of a body: the routing fields exactly as a full parse sees them, and
nothing accepted that a full parse would refuse."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from gidgethub.routing import Router

from bot.service.envelope import SUMMARY_KEYS, NotAJsonObject, parse, summarise
from bot.service.routing import compose

FIXTURES = Path(__file__).parent.parent / "fixtures" / "service"


def expected_summary(data: dict) -> dict:
    """What the intake reads from a fully parsed body (see intake.describe and lane_of)."""
    summary = {key: data[key] for key in ("action", "installation", "number") if data.get(key) is not None}
    if isinstance(data.get("repository"), dict):
        summary["repository"] = {"full_name": data["repository"].get("full_name")}
    for key in ("pull_request", "issue"):
        if isinstance(data.get(key), dict):
            summary[key] = {"number": data[key].get("number")}
    return summary


@pytest.mark.parametrize("fixture", sorted(path.name for path in FIXTURES.glob("*.json")))
def test_the_summary_of_a_real_payload_matches_its_full_parse(fixture: str) -> None:
    body = (FIXTURES / fixture).read_bytes()
    full = json.loads(body)

    summary = summarise(body)

    assert summary == expected_summary(full)
    assert parse(body) == full


def test_a_review_comment_summary_carries_what_routing_and_lanes_need() -> None:
    summary = summarise((FIXTURES / "pull_request_review_comment.created.json").read_bytes())

    assert summary["action"] == "created"
    assert summary["pull_request"] == {"number": 2}
    assert summary["repository"] == {"full_name": "Codertocat/Hello-World"}
    assert set(summary) <= SUMMARY_KEYS


@pytest.mark.parametrize("body", [b"", b"not json", b'{"action": "created"', b"\xff\xfe", b'{"a": 1} trailing'])
def test_a_body_that_is_not_json_is_refused(body: bytes) -> None:
    with pytest.raises(NotAJsonObject):
        summarise(body)


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_json_that_is_not_an_object_is_refused(body: bytes) -> None:
    with pytest.raises(NotAJsonObject):
        summarise(body)


def test_an_unexpected_shape_falls_back_to_what_a_full_parse_sees() -> None:
    body = json.dumps({"action": "created", "repository": "not-an-object", "pull_request": None, "number": 7}).encode()

    assert summarise(body) == {"action": "created", "repository": "not-an-object", "number": 7}


def test_routing_on_a_key_the_summary_lacks_is_refused_at_startup() -> None:
    router = Router()

    @router.register("create", ref_type="tag")
    async def on_tag(event, ctx) -> None:  # pragma: no cover - never dispatched
        pass

    with pytest.raises(ValueError, match="ref_type"):
        compose(router)


@pytest.mark.parametrize("body", [
    b'{"action": "cre\xffated"}',  # in a field the summary decodes
    b'{"action": "created", "comment": {"body": "\xff"}}',  # in a field it skips
])
def test_a_body_that_is_not_utf8_is_refused_wherever_the_bad_byte_is(body: bytes) -> None:
    with pytest.raises(NotAJsonObject, match="UTF-8"):
        summarise(body)


def test_nesting_too_deep_to_parse_is_refused_not_a_crash() -> None:
    with pytest.raises(NotAJsonObject):
        summarise(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")


@pytest.mark.parametrize("action", ["[1]", "{}", "3"])
def test_an_action_that_is_not_a_string_is_left_out(action: str) -> None:
    assert summarise(f'{{"action": {action}, "number": 2}}'.encode()) == {"number": 2}


def test_the_full_parse_reads_what_the_intake_accepted_even_a_number_too_big_for_a_float() -> None:
    body = b'{"action": "created", "comment": {"score": 1e999}}'

    assert summarise(body) == {"action": "created"}
    assert parse(body)["comment"]["score"] == float("inf")
