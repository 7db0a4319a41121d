"""The few fields of a webhook body the intake needs before it answers.

A review-comment delivery is about 27 KB of JSON, and the intake needs five values from it: the
action, the installation, the repository's name and the PR or issue number. msgspec checks that
the *whole* body is well-formed JSON but builds Python objects only for these fields, about three
times faster than a full parse and with nothing left for the garbage collector (bench/webhook.py).
The worker parses the full body later, off the ack path.
"""
from __future__ import annotations

import json
from typing import Any

import msgspec

# The top-level keys a summary carries. The composed router may route on data keys only if they
# are among these (checked once, at startup, by routing.compose).
SUMMARY_KEYS = frozenset({"action", "installation", "repository", "pull_request", "issue", "number"})


class _Numbered(msgspec.Struct):
    number: Any = None


class _Repository(msgspec.Struct):
    full_name: Any = None


class _Envelope(msgspec.Struct):
    action: Any = None
    installation: Any = None  # small: {"id", "node_id"}
    repository: _Repository | None = None
    pull_request: _Numbered | None = None
    issue: _Numbered | None = None
    number: Any = None


_envelope = msgspec.json.Decoder(_Envelope)
_anything = msgspec.json.Decoder()


class NotAJsonObject(ValueError):
    """The body is not JSON, or its top level is not an object."""


def summarise(body: bytes) -> dict[str, Any]:
    """A dict shaped like the body, with only the summary keys that are present and not null."""
    try:
        # msgspec does not look inside the strings it skips; JSON must be UTF-8 (RFC 8259), and
        # checking it whole costs about a microsecond.
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotAJsonObject(f"not UTF-8: {error}") from None
    try:
        envelope = _envelope.decode(body)
    except msgspec.ValidationError:  # (a DecodeError too, so it goes first)
        # Valid JSON of an unexpected shape (an array, or e.g. a string where an object should
        # be): decode it all and keep what is there, as the full parse would see it.
        try:
            data = parse(body)
        except (ValueError, RecursionError) as error:
            raise NotAJsonObject(f"not JSON: {error}") from None
        if not isinstance(data, dict):
            raise NotAJsonObject("the top level is not a JSON object") from None
        return _routable({key: data[key] for key in SUMMARY_KEYS if data.get(key) is not None})
    except (msgspec.DecodeError, RecursionError) as error:
        raise NotAJsonObject(f"not JSON: {error}") from None
    summary: dict[str, Any] = {}
    for key in ("action", "installation", "number"):
        value = getattr(envelope, key)
        if value is not None:
            summary[key] = value
    if envelope.repository is not None:
        summary["repository"] = {"full_name": envelope.repository.full_name}
    for key in ("pull_request", "issue"):
        item = getattr(envelope, key)
        if item is not None:
            summary[key] = {"number": item.number}
    return _routable(summary)


def _routable(summary: dict[str, Any]) -> dict[str, Any]:
    # The router looks the action up in a dict: an action that is not a string cannot match
    # (and an unhashable one would raise), so it is left out, as for "an action nobody handles".
    if not isinstance(summary.get("action"), str):
        summary.pop("action", None)
    return summary


def parse(body: bytes) -> Any:
    """The full body (the worker's parse); a ValueError when it is not JSON.

    msgspec refuses numbers a float cannot hold (1e999) where the standard library reads
    infinity; the intake accepted such a body, so it is read the standard library's way."""
    try:
        return _anything.decode(body)
    except msgspec.DecodeError:
        return json.loads(body)
