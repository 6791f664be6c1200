"""Default selection sets and operation documents: what a generated operation asks for when the
caller names nothing. Scalar and enum leaves of the returned type, argument-free nested objects
down to a bounded depth, `__typename` for abstract types and for composites with nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLUnionType,
    GraphQLWrappingType,
    get_named_type,
    is_leaf_type,
)

from switchboard.plugins.graphql.schemas import required

DEFAULT_DEPTH = 2
"""The returned type's leaves plus one level of nested objects: the reference stops at leaves
(its gap 14), which leaves `viewer { login }`-style answers without their obvious parts."""
LEAVES = (GraphQLScalarType, GraphQLEnumType)
MAX_FIELDS = 120
"""Fields per operation: enough for a useful answer, few enough for servers' query-cost limits
(GitHub's node limit, Shopify's cost points)."""


@dataclass
class _Budget:
    left: int = MAX_FIELDS

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


def _selectable(field: GraphQLField) -> bool:
    """Callable without arguments, and not deprecated (it works, but is on its way out)."""
    if field.deprecation_reason is not None:
        return False
    return not field.args or not any(required(arg) for arg in field.args.values())


def _named(type_: Any) -> Any:
    # get_named_type without its per-call checks: this runs for every field of every type seen.
    while isinstance(type_, GraphQLWrappingType):
        type_ = type_.of_type
    return type_


@dataclass(frozen=True)
class _Shape:
    """What a composite type offers a default selection; computed once per type."""

    leaves: tuple[tuple[str, GraphQLOutputType], ...]
    """(field name, field type) of selectable scalar and enum fields."""
    nested: tuple[tuple[str, GraphQLNamedType], ...]
    """Argument-free fields returning composites."""


class Selector:
    """Default selection sets for the fields of one schema, sharing per-type work between them
    (a large schema's payload types keep returning the same few neighbours)."""

    def __init__(self, depth: int = DEFAULT_DEPTH) -> None:
        self.depth = depth
        self._shapes: dict[str, _Shape] = {}

    def selection_set(self, field: GraphQLField) -> str:
        """`{ ... }` for a field returning a composite type, `""` for one returning a leaf."""
        named = get_named_type(field.type)
        if is_leaf_type(named):
            return ""
        items = self._items(named, 1, frozenset({named.name}), _Budget())
        return "{ " + " ".join(items) + " }"

    def _shape(self, named: GraphQLObjectType | GraphQLInterfaceType) -> _Shape:
        shape = self._shapes.get(named.name)
        if shape is None:
            leaves, nested = [], []
            for name, field in named.fields.items():
                if not _selectable(field):
                    continue
                inner = _named(field.type)
                if isinstance(inner, LEAVES):
                    leaves.append((name, field.type))
                elif not field.args:
                    nested.append((name, inner))
            shape = self._shapes[named.name] = _Shape(tuple(leaves), tuple(nested))
        return shape

    def _items(
        self, named: GraphQLNamedType, level: int, path: frozenset[str], budget: _Budget
    ) -> list[str]:
        if isinstance(named, GraphQLUnionType):
            return self._union_items(named, budget)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return self._fields_of(named, level, path, budget)
        return []

    def _fields_of(
        self,
        named: GraphQLObjectType | GraphQLInterfaceType,
        level: int,
        path: frozenset[str],
        budget: _Budget,
    ) -> list[str]:
        shape = self._shape(named)
        items = [name for name, _ in shape.leaves[: max(budget.left, 0)]]
        budget.left -= len(items)
        # Leaves first, so the budget goes to the returned type's own facts before neighbours'.
        if level < self.depth:
            for name, inner in shape.nested:
                if budget.left <= 1:
                    break
                if inner.name in path:
                    continue
                budget.left -= 1
                sub = self._items(inner, level + 1, path | {inner.name}, budget)
                if sub == ["__typename"]:
                    budget.left += 1  # a neighbour's bare `__typename` is not worth its place
                    continue
                items.append(f"{name} {{ {' '.join(sub)} }}")
        if isinstance(named, GraphQLInterfaceType):
            items.insert(0, "__typename")
        return items or ["__typename"]

    def _union_items(self, union: GraphQLUnionType, budget: _Budget) -> list[str]:
        """`__typename` plus each member's leaves in an inline fragment. Members may share a field
        name with different types, which one selection set cannot merge: those get an alias."""
        items = ["__typename"]
        seen: dict[str, str] = {}
        for member in union.types:
            leaves = []
            for name, type_ in self._shape(member).leaves:
                if not budget.take():
                    break
                written = str(type_)
                if seen.setdefault(name, written) == written:
                    leaves.append(name)
                else:
                    leaves.append(f"{name}_{member.name}: {name}")
            if leaves:
                items.append(f"... on {member.name} {{ {' '.join(leaves)} }}")
        return items


def _variable_type(arg: GraphQLArgument) -> str:
    # A non-null argument with a default may be left out: declaring the variable nullable lets
    # the server apply that default (graphql's "allowed position" rule permits exactly this).
    if isinstance(arg.type, GraphQLNonNull) and not required(arg):
        return str(arg.type.of_type)
    return str(arg.type)


def operation_name(field_name: str) -> str:
    return field_name[:1].upper() + field_name[1:]


def operation_document(kind: str, field_name: str, field: GraphQLField, selection: str) -> str:
    """`query Hello($name: String) { hello(name: $name) { ... } }`: arguments become variables."""
    variables = ", ".join(f"${name}: {_variable_type(arg)}" for name, arg in field.args.items())
    arguments = ", ".join(f"{name}: ${name}" for name in field.args)
    head = f"{kind} {operation_name(field_name)}" + (f"({variables})" if variables else "")
    call = field_name + (f"({arguments})" if arguments else "")
    body = f"{call} {selection}" if selection else call
    return f"{head} {{ {body} }}"
