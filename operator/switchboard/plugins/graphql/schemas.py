"""JSON Schemas for GraphQL arguments: built-in scalars as JSON types, lists as arrays, and enums,
input objects and custom scalars as shared `$defs` (`#/$defs/<Type>`), so recursive inputs stay
finite and a type used by many operations is described once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, parse_const_value, value_from_ast_untyped

from switchboard.plugins.graphql.typerefs import Ref, TypeDef, by_name, deprecated, required

DEFS_PREFIX = "#/$defs/"
BUILT_IN: dict[str, dict[str, Any]] = {
    "Int": {"type": "integer"},
    "Float": {"type": "number"},
    "String": {"type": "string"},
    "Boolean": {"type": "boolean"},
    # GraphQL also coerces integers into IDs, but agents and most clients send strings.
    "ID": {"type": "string"},
}
FORMATS = {
    "DateTime": "date-time",
    "Date": "date",
    "Time": "time",
    "URI": "uri",
    "URL": "uri",
    "Url": "uri",
    "Email": "email",
    "EmailAddress": "email",
    "UUID": "uuid",
}
"""Common custom scalars whose JSON Schema `format` is unambiguous."""

InputValue = Mapping[str, Any]
"""An argument or input field as introspection writes it."""


def default_of(value: InputValue) -> Any:
    """The default as JSON (enums by name), parsed by graphql-core from the GraphQL literal that
    introspection gives; None when there is none or it cannot be read."""
    literal = value.get("defaultValue")
    if not isinstance(literal, str):
        return None
    try:
        return value_from_ast_untyped(parse_const_value(literal))
    except (GraphQLError, TypeError, ValueError):
        return None


class InputSchemas:
    """Builds argument schemas for many operations, collecting the `$defs` they share."""

    def __init__(self, types: Mapping[str, TypeDef]) -> None:
        self.types = types
        self.definitions: dict[str, Any] = {}
        self._pending: list[TypeDef] = []

    def for_arguments(self, arguments: Mapping[str, InputValue]) -> dict[str, Any]:
        """The input schema of one operation: an object with a property per argument."""
        schema = self._object(arguments)
        self._drain()
        return schema

    def _object(self, values: Mapping[str, InputValue]) -> dict[str, Any]:
        properties = {name: self._value(value) for name, value in values.items()}
        needed = [name for name, value in values.items() if required(value)]
        schema: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if needed:
            schema["required"] = needed
        return schema

    def _value(self, value: InputValue) -> dict[str, Any]:
        schema = self.for_type(value["type"])
        extra: dict[str, Any] = {}
        if value.get("description"):
            extra["description"] = value["description"]
        default = default_of(value)
        if default is not None:
            extra["default"] = default
        if deprecated(value):
            extra["deprecated"] = True
        return {**schema, **extra} if extra else schema

    def for_type(self, ref: Ref) -> dict[str, Any]:
        """The schema of one input type; named non-built-in types become `$ref`s."""
        kind = ref["kind"]
        if kind == "NON_NULL":
            return self.for_type(ref["ofType"])
        if kind == "LIST":
            return {"type": "array", "items": self.for_type(ref["ofType"])}
        name = ref["name"]
        if name in BUILT_IN:
            return dict(BUILT_IN[name])
        if name not in self.definitions:
            self.definitions[name] = {}  # reserved now: a recursive input refers back to it
            self._pending.append(self.types[name])
        return {"$ref": DEFS_PREFIX + name}

    def _drain(self) -> None:
        # A worklist, not recursion: input objects may nest each other arbitrarily deep.
        while self._pending:
            named = self._pending.pop()
            self.definitions[named["name"]] = self._define(named)

    def _define(self, named: TypeDef) -> dict[str, Any]:
        kind, name = named["kind"], named["name"]
        schema: dict[str, Any] = {}
        if kind == "ENUM":
            values = dict.fromkeys(v["name"] for v in named["enumValues"])
            schema = {"type": "string", "enum": list(values)}
        elif kind == "INPUT_OBJECT":
            schema = self._object(by_name(named["inputFields"]))
            if named.get("isOneOf"):
                schema["minProperties"] = schema["maxProperties"] = 1
        elif name in FORMATS:  # a scalar: the reading admits nothing else in input positions
            schema = {"type": "string", "format": FORMATS[name]}
        description = named.get("description") or (
            f"GraphQL scalar {name}" if kind == "SCALAR" else None
        )
        if description:
            schema["description"] = description
        return schema
