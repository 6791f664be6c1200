"""Default selection sets and operation documents: what a generated operation asks for when the
caller names nothing. Scalar and enum leaves of the returned type, argument-free nested objects
down to a bounded depth, `__typename` for abstract types and for composites with nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.plugins.graphql.typerefs import (
    LEAVES,
    TypeDef,
    by_name,
    named,
    required,
    selectable,
    written,
)

DEFAULT_DEPTH = 2
"""The returned type's leaves plus one level of nested objects: the reference stops at leaves
(its gap 14), which leaves `viewer { login }`-style answers without their obvious parts."""
MAX_FIELDS = 120
"""Fields per operation: enough for a useful answer, few enough for servers' query-cost limits
(GitHub's node limit, Shopify's cost points)."""

Field = Mapping[str, Any]
"""A field as introspection writes it."""


@dataclass
class _Budget:
    left: int = MAX_FIELDS

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass(frozen=True)
class _Shape:
    """What a composite type offers a default selection; computed once per type."""

    leaves: tuple[tuple[str, str], ...]
    """(field name, field type as written) of selectable scalar and enum fields."""
    nested: tuple[tuple[str, TypeDef], ...]
    """Argument-free fields returning composites."""


class Selector:
    """Default selection sets for the fields of one schema, sharing per-type work between them
    (a large schema's payload types keep returning the same few neighbours)."""

    def __init__(self, types: Mapping[str, TypeDef], depth: int = DEFAULT_DEPTH) -> None:
        self.types = types
        self.depth = depth
        self._shapes: dict[str, _Shape] = {}

    def selection_set(self, field: Field) -> str:
        """`{ ... }` for a field returning a composite type, `""` for one returning a leaf."""
        returned = self.types[named(field["type"])]
        if returned["kind"] in LEAVES:
            return ""
        items = self._items(returned, 1, frozenset({returned["name"]}), _Budget())
        return "{ " + " ".join(items) + " }"

    def _shape(self, composite: TypeDef) -> _Shape:
        shape = self._shapes.get(composite["name"])
        if shape is None:
            leaves, nested = [], []
            for name, field in by_name(composite["fields"]).items():
                if not selectable(field):
                    continue
                inner = self.types[named(field["type"])]
                if inner["kind"] in LEAVES:
                    leaves.append((name, written(field["type"])))
                elif not field.get("args"):
                    nested.append((name, inner))
            shape = self._shapes[composite["name"]] = _Shape(tuple(leaves), tuple(nested))
        return shape

    def _items(
        self, composite: TypeDef, level: int, path: frozenset[str], budget: _Budget
    ) -> list[str]:
        kind = composite["kind"]
        if kind == "UNION":
            return self._union_items(composite, budget)
        if kind in ("OBJECT", "INTERFACE"):
            return self._fields_of(composite, level, path, budget)
        return []

    def _fields_of(
        self, composite: TypeDef, level: int, path: frozenset[str], budget: _Budget
    ) -> list[str]:
        shape = self._shape(composite)
        items = [name for name, _ in shape.leaves[: max(budget.left, 0)]]
        budget.left -= len(items)
        # Leaves first, so the budget goes to the returned type's own facts before neighbours'.
        if level < self.depth:
            for name, inner in shape.nested:
                if budget.left <= 1:
                    break
                if inner["name"] in path:
                    continue
                budget.left -= 1
                sub = self._items(inner, level + 1, path | {inner["name"]}, budget)
                if sub == ["__typename"]:
                    budget.left += 1  # a neighbour's bare `__typename` is not worth its place
                    continue
                items.append(f"{name} {{ {' '.join(sub)} }}")
        if composite["kind"] == "INTERFACE":
            items.insert(0, "__typename")
        return items or ["__typename"]

    def _union_items(self, union: TypeDef, budget: _Budget) -> list[str]:
        """`__typename` plus each member's leaves in an inline fragment. Members may share a field
        name with different types, which one selection set cannot merge: those get an alias."""
        items = ["__typename"]
        seen: dict[str, str] = {}
        for ref in union["possibleTypes"]:
            member = self.types[named(ref)]
            leaves = []
            for name, type_ in self._shape(member).leaves:
                if not budget.take():
                    break
                if seen.setdefault(name, type_) == type_:
                    leaves.append(name)
                else:
                    leaves.append(f"{name}_{member['name']}: {name}")
            if leaves:
                items.append(f"... on {member['name']} {{ {' '.join(leaves)} }}")
        return items


def _variable_type(arg: Field) -> str:
    # A non-null argument with a default may be left out: declaring the variable nullable lets
    # the server apply that default (graphql's "allowed position" rule permits exactly this).
    if arg["type"]["kind"] == "NON_NULL" and not required(arg):
        return written(arg["type"]["ofType"])
    return written(arg["type"])


def operation_name(field_name: str) -> str:
    return field_name[:1].upper() + field_name[1:]


def operation_document(
    kind: str, field_name: str, args: Mapping[str, Field], selection: str
) -> str:
    """`query Hello($name: String) { hello(name: $name) { ... } }`: arguments become variables."""
    variables = ", ".join(f"${name}: {_variable_type(arg)}" for name, arg in args.items())
    arguments = ", ".join(f"{name}: ${name}" for name in args)
    head = f"{kind} {operation_name(field_name)}" + (f"({variables})" if variables else "")
    call = field_name + (f"({arguments})" if arguments else "")
    body = f"{call} {selection}" if selection else call
    return f"{head} {{ {body} }}"
