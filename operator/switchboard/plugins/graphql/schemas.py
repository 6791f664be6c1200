"""JSON Schemas for GraphQL arguments: built-in scalars as JSON types, lists as arrays, and enums,
input objects and custom scalars as shared `$defs` (`#/$defs/<Type>`), so recursive inputs stay
finite and a type used by many operations is described once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    ast_from_value,
    value_from_ast_untyped,
)

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

InputValue = GraphQLArgument | GraphQLInputField


def _default(value: InputValue) -> tuple[bool, Any]:
    """(has a default, the default as JSON with enums by name); a default that cannot be shown
    as JSON still counts as present."""
    default = getattr(value, "default", None)  # graphql-core >= 3.3 keeps the literal
    try:
        if default is not None:
            if default.literal is not None:
                return True, value_from_ast_untyped(default.literal)
            orjson.dumps(default.value)  # a runtime (external) value: shown only if it is JSON
            return True, default.value
        legacy = getattr(value, "default_value", Undefined)  # graphql-core 3.2
        if legacy is Undefined:
            return False, None
        literal = ast_from_value(legacy, value.type)
        return True, value_from_ast_untyped(literal) if literal is not None else None
    except (GraphQLError, TypeError, ValueError, orjson.JSONEncodeError):
        return True, None


def required(value: InputValue) -> bool:
    """Non-null with no default: the caller must supply it."""
    if not isinstance(value.type, GraphQLNonNull):
        return False
    if getattr(value, "default", None) is not None:
        return False
    return getattr(value, "default_value", Undefined) is Undefined


class InputSchemas:
    """Builds argument schemas for many operations, collecting the `$defs` they share."""

    def __init__(self) -> None:
        self.definitions: dict[str, Any] = {}
        self._pending: list[GraphQLNamedType] = []

    def for_arguments(self, arguments: Mapping[str, GraphQLArgument]) -> dict[str, Any]:
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
        schema = self.for_type(value.type)
        extra: dict[str, Any] = {}
        if value.description:
            extra["description"] = value.description
        present, default = _default(value)
        if present and default is not None:
            extra["default"] = default
        if value.deprecation_reason is not None:
            extra["deprecated"] = True
        return {**schema, **extra} if extra else schema

    def for_type(self, type_: GraphQLInputType) -> dict[str, Any]:
        """The schema of one input type; named non-built-in types become `$ref`s."""
        if isinstance(type_, GraphQLNonNull):
            return self.for_type(type_.of_type)
        if isinstance(type_, GraphQLList):
            return {"type": "array", "items": self.for_type(type_.of_type)}
        name = type_.name
        if name in BUILT_IN:
            return dict(BUILT_IN[name])
        if name not in self.definitions:
            self.definitions[name] = {}  # reserved now: a recursive input refers back to it
            self._pending.append(type_)
        return {"$ref": DEFS_PREFIX + name}

    def _drain(self) -> None:
        # A worklist, not recursion: input objects may nest each other arbitrarily deep.
        while self._pending:
            named = self._pending.pop()
            self.definitions[named.name] = self._define(named)

    def _define(self, named: GraphQLNamedType) -> dict[str, Any]:
        if isinstance(named, GraphQLEnumType):
            schema: dict[str, Any] = {"type": "string", "enum": list(named.values)}
        elif isinstance(named, GraphQLInputObjectType):
            schema = self._object(named.fields)
            if getattr(named, "is_one_of", False):
                schema["minProperties"] = schema["maxProperties"] = 1
        elif isinstance(named, GraphQLScalarType):
            schema = {}
            if named.name in FORMATS:
                schema = {"type": "string", "format": FORMATS[named.name]}
        else:  # pragma: no cover - graphql-core only puts input types in input positions
            schema = {}
        description = named.description or (
            f"GraphQL scalar {named.name}" if isinstance(named, GraphQLScalarType) else None
        )
        if description:
            schema["description"] = description
        return schema
