"""GitHub's own OpenAPI descriptions, loaded once and indexed for the exchange check.

    description = Description.load(rest_file, webhooks_file)   # gzipped JSON
    operation = description.operation("GET", "/repos/apache/cloudstack/pulls/7")
    operation.template                                   # "/repos/{owner}/{repo}/pulls/{pull_number}"
    description.response_validator(operation, 200)       # a jsonschema validator, or None
    description.webhook("pull_request", "opened")        # the webhook's description, or None

The REST description is OpenAPI 3.0 (`nullable`), the webhooks one 3.1: each gets the validator
class of its own dialect from openapi-schema-validator, and `$ref`s resolve inside their own
document. Validators are built on first use and kept, because the documents are large and the
suite asks for the same few dozen schemas thousands of times.
"""
from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import extend
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
JSON_TYPES = ("application/json", "application/scim+json")
# The path parameters GitHub lets hold slashes, when they end the path: a file's path, a ref
# (`heads/main`), a branch name and a `base...head` range.
SLASHED = {"path", "ref", "branch", "basehead"}

Json = dict[str, Any]


@dataclass(frozen=True)
class Operation:
    """One REST operation, its `$ref`s to parameters, bodies and responses already followed."""

    method: str
    template: str
    operation_id: str
    parameters: tuple[Json, ...]
    request_body: Json | None
    responses: Mapping[str, Json]

    def response(self, status: int) -> Json | None:
        """The declared response for `status`: exact, then `4XX`-style, then `default`."""
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in self.responses:
                return self.responses[key]
        return None


@dataclass(frozen=True)
class _Route:
    template: str
    segments: tuple[str | None, ...]  # a literal segment, or None for a `{parameter}`
    greedy: bool  # the last parameter may hold slashes (SLASHED)

    @property
    def literal_length(self) -> int:
        """More literal text wins: /pulls/comments before /pulls/{pull_number}."""
        return sum(len(segment) for segment in self.segments if segment is not None)

    def matches(self, parts: list[str]) -> bool:
        if len(parts) != len(self.segments) and not (self.greedy and len(parts) > len(self.segments)):
            return False
        # A greedy route may have more parts than segments: the extra ones are its tail.
        return all(part != "" if segment is None else segment == part for segment, part in zip(self.segments, parts, strict=False))


def _route(template: str) -> _Route:
    segments = tuple(None if part.startswith("{") else part for part in template.split("/"))
    last = template.rsplit("/", 1)[-1]
    return _Route(template, segments, last.startswith("{") and last[1:-1] in SLASHED)


def _as_github_means_it(validator_class: Any) -> Any:
    """`validator_class` read the way GitHub writes its description: a `nullable` property with
    an `enum` takes null (GitHub sends `state_reason: null`); a `oneOf` whose alternatives
    overlap needs one to fit; and a discriminator, which can only read an object, leaves a
    list to the alternatives (a folder's contents are a list, a file's an object)."""
    enum, any_of = validator_class.VALIDATORS["enum"], validator_class.VALIDATORS["anyOf"]

    def nullable_enum(validator: Any, enums: Any, instance: Any, schema: Json) -> Any:
        if instance is None and schema.get("nullable"):
            return iter(())
        return enum(validator, enums, instance, schema)

    def one_or_more_of(validator: Any, alternatives: Any, instance: Any, schema: Json) -> Any:
        if "discriminator" in schema and not validator.is_type(instance, "object"):
            schema = {key: value for key, value in schema.items() if key != "discriminator"}
        return any_of(validator, alternatives, instance, schema)

    return extend(validator_class, {"enum": nullable_enum, "oneOf": one_or_more_of, "anyOf": one_or_more_of})


RestReadValidator = _as_github_means_it(OAS30ReadValidator)
RestWriteValidator = _as_github_means_it(OAS30WriteValidator)
WebhookValidator = _as_github_means_it(OAS31Validator)

REST_URI = "urn:github:rest"
WEBHOOKS_URI = "urn:github:webhooks"


def _registry(uri: str, document: Json, specification: Any) -> Registry:
    return Registry().with_resource(uri, Resource(contents=document, specification=specification))


def _anchored(schema: Any, uri: str) -> Any:
    """A copy of an inline schema whose local `#/components/...` references (`$ref`s and
    discriminator mappings) point into the document at `uri`: a validator takes the schema it
    is given as its root, which would hide the document."""
    if isinstance(schema, dict):
        return {key: _anchored(value, uri) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_anchored(item, uri) for item in schema]
    if isinstance(schema, str) and schema.startswith("#/components/"):
        return uri + schema
    return schema


@dataclass(eq=False)  # hashed by identity, for the cache of `template_of`
class Description:
    rest: Json
    webhooks: Json
    _rest_registry: Registry = field(init=False)
    _webhook_registry: Registry = field(init=False)
    _validators: dict[str, tuple[Json, Validator]] = field(default_factory=dict, init=False)
    _operations: dict[tuple[str, str], Operation] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._rest_registry = _registry(REST_URI, self.rest, DRAFT4)
        self._webhook_registry = _registry(WEBHOOKS_URI, self.webhooks, DRAFT202012)

    @classmethod
    def load(cls, rest: Path, webhooks: Path) -> Description:
        """From the gzipped JSON files of the REST and the webhooks descriptions."""
        def read(path: Path) -> Json:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                return dict(json.load(handle))
        return cls(read(rest), read(webhooks))

    # -- REST ---------------------------------------------------------------------------------

    @cached_property
    def _routes(self) -> dict[str, list[_Route]]:
        """Per method, the routes, most literal first."""
        by_method: dict[str, list[_Route]] = {}
        for template, item in self.rest["paths"].items():
            for method in METHODS:
                if method in item:
                    by_method.setdefault(method.upper(), []).append(_route(template))
        for routes in by_method.values():
            routes.sort(key=lambda route: -route.literal_length)
        return by_method

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one description a session, kept for it anyway
    def template_of(self, method: str, path: str) -> str | None:
        """The path template of the operation `method path` stands for, or None. A match with
        every segment in place wins over one where the last parameter takes the rest."""
        parts = path.split("/")
        routes = self._routes.get(method.upper(), [])
        exact = next((r for r in routes if len(r.segments) == len(parts) and r.matches(parts)), None)
        found = exact or next((r for r in routes if r.greedy and r.matches(parts)), None)
        return found.template if found else None

    def operation(self, method: str, path: str) -> Operation | None:
        template = self.template_of(method, path)
        if template is None:
            return None
        key = (method.upper(), template)
        if key not in self._operations:
            self._operations[key] = self._build_operation(method.upper(), template)
        return self._operations[key]

    def _build_operation(self, method: str, template: str) -> Operation:
        item = self.rest["paths"][template]
        raw = item[method.lower()]
        parameters = tuple(self.resolve(p) for p in [*item.get("parameters", []), *raw.get("parameters", [])])
        body = self.resolve(raw["requestBody"]) if "requestBody" in raw else None
        responses = {status: self.resolve(response) for status, response in raw.get("responses", {}).items()}
        return Operation(method, template, raw.get("operationId", f"{method} {template}"), parameters, body, responses)

    def resolve(self, node: Json) -> Json:
        """Follow a `$ref` to a parameter, body or response object (not into schemas)."""
        resolver = self._rest_registry.resolver(REST_URI)
        while isinstance(node, dict) and "$ref" in node:
            node = resolver.lookup(node["$ref"]).contents
        return node

    def request_validator(self, operation: Operation) -> Validator | None:
        schema = _json_schema(operation.request_body)
        return None if schema is None else self._rest_validator(schema, RestWriteValidator)

    def response_validator(self, operation: Operation, status: int) -> Validator | None:
        schema = _json_schema(operation.response(status))
        return None if schema is None else self._rest_validator(schema, RestReadValidator)

    def parameter_validator(self, schema: Json) -> Validator:
        return self._rest_validator(schema, RestWriteValidator)

    def _rest_validator(self, schema: Json, kind: Any) -> Validator:
        return self._kept(f"{id(kind)}", schema, lambda: kind(_anchored(schema, REST_URI), registry=self._rest_registry,
                                                              format_checker=oas30_format_checker))

    def _kept(self, kind: str, schema: Json, build: Callable[[], Validator]) -> Validator:
        """The validator of `schema`, built once. Keyed by the schema's identity (the document's
        own dicts, so no hashing of large schemas); kept beside it, so that identity holds."""
        key = f"{kind} {id(schema)}"
        if key not in self._validators:
            self._validators[key] = (schema, build())
        return self._validators[key][1]

    # -- webhooks -----------------------------------------------------------------------------

    def webhook(self, event: str, action: str | None) -> Json | None:
        """The `post` of the webhook for `event` (and `action`): `pull-request-review-opened`..."""
        hooks = self.webhooks["webhooks"]
        name = event.replace("_", "-")
        item = hooks.get(f"{name}-{action.replace('_', '-')}") if action else None
        item = item or hooks.get(name)
        return None if item is None else dict(item["post"])

    def webhook_validator(self, event: str, action: str | None) -> Validator | None:
        hook = self.webhook(event, action)
        schema = _json_schema(hook.get("requestBody")) if hook else None
        if schema is None:
            return None
        return self._kept("webhook", schema, lambda: WebhookValidator(
            _anchored(schema, WEBHOOKS_URI), registry=self._webhook_registry, format_checker=oas31_format_checker))


def _json_schema(body_or_response: Json | None) -> Json | None:
    """The JSON schema of a request body or response object, when it declares one."""
    content = (body_or_response or {}).get("content") or {}
    for media_type in JSON_TYPES:
        if media_type in content and "schema" in content[media_type]:
            return content[media_type]["schema"]  # the document's own dict: its id keys the cache
    return None
