"""Each recorded exchange held to GitHub's description: one `Disagreement` per thing that differs.

A request must name an operation (method and path template), carry its required query
parameters with values of the declared type, and a body that fits the declared schema. The
answer must be a declared status whose body fits that status's schema. GitHub can answer any
request with 401, 403, 429 or a 5xx that no operation lists; those must still look like
GitHub's errors. Every REST answer carries the `x-ratelimit-*` headers (github-api.md §1.5),
and a `link` header names its pages as `<url>; rel="next"`. A webhook must have a described
event (and action), its required headers, and a payload that fits the event's schema.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema.exceptions import best_match

from localhub.observers import HttpExchange, WebhookEmitted
from openapi.description import Description, Operation

# What the local GitHub serves that is not the REST API: GraphQL, and the github.com pages a
# person's browser sees while registering and installing an App.
NOT_REST = re.compile(r"^/graphql$|^(/organizations/[^/]+)?/settings/apps/new$|^/apps/[^/]+/installations/new$")
# GitHub may answer any request so, whatever the operation lists: bad credentials, rate limits,
# a resource that is not there or not visible, trouble on its side (github-api.md §1.1, §1.5).
ANY_OPERATION = {401, 403, 404, 429, 500, 502, 503, 504}
# ... and any request with a body so, when the body does not parse or does not validate.
ANY_BODY = {400, 422}
RATE_LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used",
                      "x-ratelimit-reset", "x-ratelimit-resource")
# Signatures are sent only when the hook has a secret; a hub without a receiver has none.
SIGNATURES = {"x-hub-signature", "x-hub-signature-256"}
LINK_PART = re.compile(r'^<([^>]+)>; rel="(next|prev|first|last)"$')
MESSAGE_LENGTH = 160


@dataclass(frozen=True)
class Disagreement:
    subject: str  # "GET /repos/{owner}/{repo}/pulls/{pull_number}" or "webhook pull_request.opened"
    status: int | None
    where: str  # "response $.user", "request query per_page", "header x-ratelimit-limit"
    message: str

    def __str__(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        return f"{self.subject}{status}: {self.where}: {self.message}"


# A word that may be an enum value (`created`, `COLLABORATOR`, `Bot`), kept in a shape as it is;
# mixed case (a node id) and digits are not enum values. A login is a word but never an enum.
WORD = re.compile(r"^(?:[a-z+][a-z_+-]{0,39}|[A-Z][A-Z_]{0,39}|[A-Z][a-z]{1,39})$")
NOT_ENUMS = {"login"}
STRING_KINDS = ((re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"), "<date-time>"),
                (re.compile(r"^[a-z]+://"), "<url>"),
                (re.compile(r"^[0-9a-f]{40}$"), "<sha>"))
_checked: dict[tuple[int, str], list[tuple[str, str]]] = {}


def shape(value: Any) -> str:
    """What a schema can tell apart in `value`: keys, types, booleans, enum-like words and the
    kind of other strings, but not ids, logins or free text. The local GitHub builds its
    answers from a few templates, so most answers share a shape with an earlier one."""
    kind = type(value)
    if kind is dict:
        return "{" + ",".join(f"{key}:{'<login>' if key in NOT_ENUMS else shape(item)}"
                              for key, item in value.items()) + "}"
    if kind is str:
        return _string_kind(value)
    if kind is list:
        return "[" + ",".join(sorted({shape(item) for item in value})) + "]"
    if kind is bool or value is None:
        return repr(value)
    return kind.__name__


@functools.lru_cache(maxsize=65536)
def _string_kind(text: str) -> str:
    if WORD.match(text):
        return repr(text)
    return next((kind for pattern, kind in STRING_KINDS if pattern.match(text)), "<text>")


def validated_shapes() -> int:
    return len(_checked)


def schema_errors(validator: Any, instance: Any) -> list[tuple[str, str]]:
    """(JSON path, message) per error, the deepest reason for a failed oneOf/anyOf. Validating a
    large payload costs tens of milliseconds, so each shape is validated once (see `shape`)."""
    key = (id(validator), shape(instance))
    if key not in _checked:
        found = []
        for error in validator.iter_errors(instance):
            if error.context:
                error = best_match(error.context) or error
            found.append((error.json_path, _short(error.message)))
        _checked[key] = found
    return _checked[key]


def _short(text: str) -> str:
    return text if len(text) <= MESSAGE_LENGTH else text[:MESSAGE_LENGTH - 1] + "…"


# -- REST ---------------------------------------------------------------------------------------

def check_http(description: Description, exchange: HttpExchange, requests: bool = True) -> list[Disagreement]:
    """With `requests` False (a test that sends what GitHub refuses, on purpose), only answers
    to requests that name an operation are held."""
    if NOT_REST.match(exchange.path):
        return []
    operation = description.operation(exchange.method, exchange.path)
    if operation is None:
        return [Disagreement(f"{exchange.method} {exchange.path}", exchange.status, "request",
                             "no operation in GitHub's description has this method and path")] if requests else []
    asked = check_request(description, operation, exchange) if requests else iter(())
    return [*asked, *check_response(description, operation, exchange)]


def check_request(description: Description, operation: Operation, exchange: HttpExchange) -> Iterator[Disagreement]:
    subject = f"{operation.method} {operation.template}"
    query = parse_qs(exchange.query, keep_blank_values=True)
    for parameter in operation.parameters:
        if parameter.get("in") != "query":
            continue
        name = parameter["name"]
        if name not in query:
            if parameter.get("required"):
                yield Disagreement(subject, None, f"request query {name}", "a required parameter is missing")
            continue
        value = _typed(query[name][-1], parameter.get("schema", {}))
        validator = description.parameter_validator(parameter.get("schema", {}))
        for _, message in schema_errors(validator, value):
            yield Disagreement(subject, None, f"request query {name}", message)
    body = _json(exchange.request_body)
    if operation.request_body is None:
        if body not in (None, {}):
            yield Disagreement(subject, None, "request body", "the operation takes no body")
        return
    if body is None:
        if operation.request_body.get("required"):
            yield Disagreement(subject, None, "request body", "a required body is missing")
        return
    validator = description.request_validator(operation)
    if validator is not None:
        for path, message in schema_errors(validator, body):
            yield Disagreement(subject, None, f"request body {path}", message)


def _typed(value: str, schema: dict[str, Any]) -> Any:
    """A query string value as the declared type, so "30" is checked as the integer 30."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def check_response(description: Description, operation: Operation, exchange: HttpExchange) -> Iterator[Disagreement]:
    subject, status = f"{operation.method} {operation.template}", exchange.status
    headers = {name.lower(): value for name, value in exchange.response_headers.items()}
    for name in RATE_LIMIT_HEADERS:
        if name not in headers:
            yield Disagreement(subject, status, f"header {name}", "missing (GitHub sends it on every answer)")
    if "link" in headers:
        yield from _check_link(subject, status, headers["link"], exchange.path)
    if status == 304:
        return
    declared = operation.response(status)
    body = _json(exchange.response_body)
    if declared is None:
        if status not in ANY_OPERATION and not (status in ANY_BODY and operation.request_body):
            yield Disagreement(subject, status, "status", "the operation declares no such status")
        elif not (isinstance(body, dict) and isinstance(body.get("message"), str)):
            yield Disagreement(subject, status, "response $", "an error answer without GitHub's `message`")
        return
    validator = description.response_validator(operation, status)
    if validator is None and status >= 400:  # described without a body, but GitHub's errors have one
        if body is not None and not (isinstance(body, dict) and isinstance(body.get("message"), str)):
            yield Disagreement(subject, status, "response $", "an error answer without GitHub's `message`")
        return
    if validator is None:
        if body not in (None, ""):
            yield Disagreement(subject, status, "response $", "a body where the operation declares none")
        return
    if body is None:
        yield Disagreement(subject, status, "response $", "no JSON body where the operation declares one")
        return
    for path, message in schema_errors(validator, body):
        yield Disagreement(subject, status, f"response {path}", message)


def _check_link(subject: str, status: int, link: str, path: str) -> Iterator[Disagreement]:
    for part in (part.strip() for part in link.split(",")):
        match = LINK_PART.match(part)
        if match is None:
            yield Disagreement(subject, status, "header link", f"not `<url>; rel=\"...\"`: {_short(part)}")
        elif urlsplit(match.group(1)).path != path:
            yield Disagreement(subject, status, "header link", f"a page of another path: {_short(match.group(1))}")


def _json(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return body.decode("utf-8", "replace")


# -- webhooks -------------------------------------------------------------------------------------

def check_webhook(description: Description, emitted: WebhookEmitted) -> list[Disagreement]:
    action = emitted.payload.get("action")
    subject = f"webhook {emitted.event}" + (f".{action}" if action else "")
    hook = description.webhook(emitted.event, action)
    if hook is None:
        return [Disagreement(subject, None, "event", "no webhook in GitHub's description has this event and action")]
    sent = {name.lower() for name in emitted.headers}
    found = [Disagreement(subject, None, f"header {parameter['name']}", "a required header is missing")
             for parameter in hook.get("parameters", [])
             if parameter.get("in") == "header" and parameter.get("required")
             and parameter["name"].lower() not in sent | SIGNATURES]
    validator = description.webhook_validator(emitted.event, action)
    if validator is not None:
        found += [Disagreement(subject, None, f"payload {path}", message)
                  for path, message in schema_errors(validator, emitted.payload)]
    return found


def check_all(description: Description, http: Iterable[HttpExchange],
              webhooks: Iterable[WebhookEmitted], requests: bool = True) -> list[Disagreement]:
    found = [d for exchange in http for d in check_http(description, exchange, requests)]
    found += [d for emitted in webhooks for d in check_webhook(description, emitted)]
    return found
