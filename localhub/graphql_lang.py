"""A small GraphQL reader and executor: enough of the language for the bot's queries.

Supports operations (query/mutation, variables with defaults), fields with aliases and
arguments (all literal kinds and $variables), nested selections, inline fragments and
named fragments. Values resolve from plain dicts whose entries may be callables taking
the field's arguments, so the result holds exactly the fields asked for, as on GitHub.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TOKEN = re.compile(
    r'(?P<skip>[\s,]+|#[^\n]*)|(?P<spread>\.\.\.)|(?P<punct>[{}()\[\]:$!=@])'
    r'|(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<name>[_A-Za-z][_0-9A-Za-z]*)'
)


class GraphQLSyntaxError(ValueError):
    pass


class GraphQLFieldError(Exception):
    """A resolver refusal that GitHub reports in `errors` (e.g. NOT_FOUND)."""

    def __init__(self, message: str, kind: str = "NOT_FOUND") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Field:
    name: str
    alias: str
    arguments: dict[str, Any]
    selections: list[Field | Fragment] | None


@dataclass
class Fragment:
    type_condition: str | None
    selections: list[Field | Fragment] = field(default_factory=list)
    name: str | None = None  # a named spread, resolved at execution


@dataclass
class Variable:
    name: str


@dataclass
class Operation:
    kind: str  # query | mutation
    selections: list[Field | Fragment]
    defaults: dict[str, Any]
    fragments: dict[str, Fragment]


def _tokens(source: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(source):
        match = TOKEN.match(source, position)
        if not match:
            raise GraphQLSyntaxError(f"Parse error on {source[position:position + 10]!r}")
        position = match.end()
        if match.lastgroup != "skip":
            found.append((match.lastgroup or "", match.group()))
    return found


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token_kind, token = self.peek()
        if (value is not None and token != value) or (kind is not None and token_kind != kind):
            raise GraphQLSyntaxError(f"Parse error on {token!r} (expected {value or kind})")
        self.at += 1
        return token

    def document(self) -> Operation:
        operation: Operation | None = None
        fragments: dict[str, Fragment] = {}
        while self.peek()[0] != "eof":
            if self.peek()[1] == "fragment":
                self.take()
                name = self.take(kind="name")
                self.take("on")
                fragments[name] = Fragment(self.take(kind="name"), self.selection_set(), name)
                continue
            kind, defaults = "query", {}
            if self.peek()[1] in ("query", "mutation"):
                kind = self.take()
                if self.peek()[0] == "name":
                    self.take()
                if self.peek()[1] == "(":
                    defaults = self.variable_definitions()
            operation = Operation(kind, self.selection_set(), defaults, fragments)
        if operation is None:
            raise GraphQLSyntaxError("No operation in document")
        return operation

    def variable_definitions(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        self.take("(")
        while self.peek()[1] != ")":
            self.take("$")
            name = self.take(kind="name")
            self.take(":")
            depth = 0
            while True:  # skip the type: Name, [Name], with ! anywhere
                token = self.take()
                depth += {"[": 1, "]": -1}.get(token, 0)
                if depth == 0 and self.peek()[1] != "!":
                    break
            if self.peek()[1] == "!":
                self.take()
            if self.peek()[1] == "=":
                self.take()
                defaults[name] = self.value()
        self.take(")")
        return defaults

    def selection_set(self) -> list[Field | Fragment]:
        self.take("{")
        selections: list[Field | Fragment] = []
        while self.peek()[1] != "}":
            if self.peek()[0] == "spread":
                self.take()
                if self.peek()[1] == "on":
                    self.take()
                    selections.append(Fragment(self.take(kind="name"), self.selection_set()))
                elif self.peek()[1] == "{":
                    selections.append(Fragment(None, self.selection_set()))
                else:
                    selections.append(Fragment(None, [], self.take(kind="name")))
                continue
            alias = name = self.take(kind="name")
            if self.peek()[1] == ":":
                self.take()
                name = self.take(kind="name")
            arguments = self.arguments() if self.peek()[1] == "(" else {}
            while self.peek()[1] == "@":  # directives are accepted and ignored
                self.take()
                self.take(kind="name")
                if self.peek()[1] == "(":
                    self.arguments()
            sub = self.selection_set() if self.peek()[1] == "{" else None
            selections.append(Field(name, alias, arguments, sub))
        self.take("}")
        return selections

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        found = {}
        while self.peek()[1] != ")":
            name = self.take(kind="name")
            self.take(":")
            found[name] = self.value()
        self.take(")")
        return found

    def value(self) -> Any:
        kind, token = self.peek()
        if token == "$":
            self.take()
            return Variable(self.take(kind="name"))
        if token == "[":
            self.take()
            items = []
            while self.peek()[1] != "]":
                items.append(self.value())
            self.take("]")
            return items
        if token == "{":
            self.take()
            obj = {}
            while self.peek()[1] != "}":
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        self.take()
        if kind == "string":
            return json.loads(token)
        if kind == "number":
            return float(token) if any(c in token for c in ".eE") else int(token)
        return {"true": True, "false": False, "null": None}.get(token, token)  # enums stay names


def parse(source: str) -> Operation:
    return _Parser(source).document()


def _substitute(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    return value


Resolved = dict[str, Any]


@dataclass
class Execution:
    operation: Operation
    variables: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def run(self, root: Resolved) -> dict[str, Any] | None:
        return self.select(root, self.operation.selections, [])

    def _flatten(self, selections: list[Field | Fragment], typename: str | None) -> list[Field]:
        fields: list[Field] = []
        for selection in selections:
            if isinstance(selection, Field):
                fields.append(selection)
                continue
            fragment = self.operation.fragments.get(selection.name, selection) if selection.name else selection
            if fragment.type_condition in (None, typename):
                fields.extend(self._flatten(fragment.selections, typename))
        return fields

    def select(self, source: Resolved, selections: list[Field | Fragment], path: list[Any]) -> dict[str, Any] | None:
        result: dict[str, Any] = {}
        for item in self._flatten(selections, source.get("__typename")):
            here = [*path, item.alias]
            if item.name not in source:
                self.errors.append({"path": here, "extensions": {"code": "undefinedField"},
                                    "message": f"Field '{item.name}' doesn't exist on type '{source.get('__typename')}'"})
                result[item.alias] = None
                continue
            value: Any = source[item.name]
            if callable(value):
                try:
                    value = value(**{k: _substitute(v, self.variables) for k, v in item.arguments.items()})
                except GraphQLFieldError as error:
                    self.errors.append({"type": error.kind, "path": here, "message": str(error)})
                    value = None
            result[item.alias] = self.complete(value, item.selections, here)
        return result

    def complete(self, value: Any, selections: list[Field | Fragment] | None, path: list[Any]) -> Any:
        if value is None or selections is None:
            return value
        if isinstance(value, list):
            return [self.complete(v, selections, [*path, i]) for i, v in enumerate(value)]
        return self.select(value, selections, path)


def execute(source: str, variables: dict[str, Any] | None, roots: Callable[[str], Resolved]) -> dict[str, Any]:
    """Run a document; `roots(kind)` gives the query or mutation root object."""
    try:
        operation = parse(source)
    except GraphQLSyntaxError as error:
        return {"errors": [{"message": str(error)}]}
    values = dict(operation.defaults)
    values.update(variables or {})
    execution = Execution(operation, values)
    data = execution.run(roots(operation.kind))
    response: dict[str, Any] = {"data": data}
    if execution.errors:
        response["errors"] = execution.errors
    return response
