"""Type references as introspection writes them (`{"kind": "NON_NULL", "ofType": {...}}`): the
named type under the wrappers, the reference written as GraphQL (`[String!]!`), and what makes an
argument required. The schema stays in this shape from reading to compiling (see `projecting`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Ref = Mapping[str, Any]
TypeDef = Mapping[str, Any]
"""One entry of `__schema.types`."""

NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
"""GraphQL's Name: what may be written into an operation document unquoted."""
WRAPPERS = ("LIST", "NON_NULL")
LEAVES = frozenset({"SCALAR", "ENUM"})


def named(ref: Ref) -> str:
    """The name under the wrappers (references are checked when the schema is read)."""
    while ref["kind"] in WRAPPERS:
        ref = ref["ofType"]
    name: str = ref["name"]
    return name


def written(ref: Ref) -> str:
    """The reference as GraphQL writes it: `[Pet!]!`."""
    kind = ref["kind"]
    if kind == "NON_NULL":
        return written(ref["ofType"]) + "!"
    if kind == "LIST":
        return "[" + written(ref["ofType"]) + "]"
    name: str = ref["name"]
    return name


def required(value: Mapping[str, Any]) -> bool:
    """An argument or input field the caller must supply: non-null with no default."""
    return value["type"]["kind"] == "NON_NULL" and value.get("defaultValue") is None


def deprecated(member: Mapping[str, Any]) -> bool:
    """Deprecated as graphql-core reads introspection: by `deprecationReason`, which a deprecated
    member always has (the spec's default reason is "No longer supported")."""
    return member.get("deprecationReason") is not None


def by_name(members: list[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    """Fields, arguments or input fields by name; a repeated name keeps its first place and its
    last definition, as graphql-core's maps do."""
    return {member["name"]: member for member in members or ()}


def selectable(field: Mapping[str, Any]) -> bool:
    """A default selection may take this field: callable without arguments, and not deprecated
    (it works, but is on its way out). Projecting keeps exactly these; selecting takes them."""
    if deprecated(field):
        return False
    return not any(required(arg) for arg in field.get("args") or ())
