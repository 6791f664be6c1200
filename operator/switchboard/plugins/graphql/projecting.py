"""The part of an introspection result that tools read, cut out before graphql-core builds it.

Compiling reads the root fields with their arguments (and, through them, every input type they
can reach) and, for the default selections, the output types a selection of `depth` levels can
reach, of which only the fields it can select. A large schema is mostly the rest: GitHub's 1,600
types are each reached by some path, but a mutation's tool reads its payload's leaves and its
neighbours' leaves and nothing beyond. Building only that part gives the same tools for a third
of the work, because graphql-core builds (and checks the names of) every field it is given.

The projection keeps each type's own field order, descriptions and deprecations, so selections
come out exactly as from the whole schema; `tests/plugins/graphql/test_projecting.py` compares
the two on real schemas. References are checked where they are walked: a dangling type name or
absurd list nesting in any part the tools read fails with the place named. Types no root field
can reach are not read at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.errors import SpecParseError

MAX_WRAPPERS = 16
"""List and non-null wrappers around one type: real schemas use up to five (`[[Int!]!]!`) and the
standard introspection query reads eight; deeper nesting only serves to exhaust the stack."""
ROOTS = ("queryType", "mutationType", "subscriptionType")
LEAVES = frozenset({"SCALAR", "ENUM"})
SELECTABLE = frozenset({"OBJECT", "INTERFACE"})
OUTPUTS = LEAVES | SELECTABLE | {"UNION"}
INPUTS = frozenset({"INPUT_OBJECT", "ENUM", "SCALAR"})


@dataclass
class Projection:
    introspection: dict[str, Any]
    """`{"__schema": ...}` holding only what compiling reads."""
    types: int
    """Named types the whole schema declares (introspection's own `__` types not counted)."""


class _Walk:
    def __init__(self, types: Mapping[str, Mapping[str, Any]], depth: int, field: str) -> None:
        self.types = types
        self.depth = depth
        self.field = field
        self.kept: dict[str, Mapping[str, Any]] = {}
        self.levels: dict[str, int] = {}
        """Output types scheduled, with the most levels of selection any use leaves below them."""
        self.buckets: list[list[str]] = [[] for _ in range(depth)]
        self.inputs: list[str] = []

    def named(self, ref: Any, where: str) -> tuple[str, Mapping[str, Any]]:
        """The named type under a reference's wrappers, which must exist."""
        wrappers = 0
        while ref.get("ofType") is not None and ref.get("kind") in ("LIST", "NON_NULL"):
            ref = ref["ofType"]
            wrappers += 1
            if wrappers > MAX_WRAPPERS:
                raise SpecParseError(
                    f"{where} has a type wrapped in more than {MAX_WRAPPERS} lists and "
                    "non-nulls; this is not a real schema",
                    field=self.field,
                )
        name = ref.get("name")
        named = self.types.get(name) if isinstance(name, str) else None
        if named is None:
            raise SpecParseError(
                f"{where} refers to type {name!r}, which the schema does not define",
                field=self.field,
            )
        return name, named

    def returned(self, ref: Any, where: str) -> tuple[str, Mapping[str, Any]]:
        """The named type a field returns, which must be an output type."""
        name, named = self.named(ref, where)
        if named.get("kind") not in OUTPUTS:
            raise SpecParseError(
                f"{where} returns {name} ({named.get('kind')}), which is not an output type",
                field=self.field,
            )
        return name, named

    def take_input(self, ref: Any, where: str) -> None:
        name, named = self.named(ref, where)
        if named.get("kind") not in INPUTS:
            raise SpecParseError(
                f"{where} takes {name} ({named.get('kind')}), which is not an input type",
                field=self.field,
            )
        if name in self.kept:
            return
        self.kept[name] = named
        if named.get("kind") == "INPUT_OBJECT":
            self.inputs.append(name)

    def take_output(self, name: str, named: Mapping[str, Any], levels: int) -> None:
        """Schedule an output type with `levels` of nested selection allowed below it."""
        if named.get("kind") in LEAVES:
            self.kept.setdefault(name, named)
        elif self.levels.get(name, -1) < levels:
            self.levels[name] = levels
            self.buckets[levels].append(name)

    def root(self, name: str) -> None:
        """A root type keeps every field with its arguments: each is a tool."""
        named = self.types[name]
        self.kept[name] = {**named, "interfaces": []}
        self.levels[name] = self.depth  # never cut down by a nested use
        for member in named["fields"]:
            where = f"{name}.{member['name']}"
            for arg in member.get("args") or ():
                self.take_input(arg["type"], f"{where}({arg['name']})")
            returned, returned_type = self.returned(member["type"], where)
            self.take_output(returned, returned_type, self.depth - 1)

    def output(self, name: str, levels: int) -> None:
        named = self.types[name]
        if named.get("kind") == "UNION":
            self.kept[name] = named
            for member in named["possibleTypes"]:
                member_name, member_type = self.returned(member, f"{name} (a member)")
                self.take_output(member_name, member_type, 0)  # a union selects members' leaves
            return
        fields = []
        for member in named["fields"]:
            if member.get("deprecationReason") is not None:
                continue  # never selected by default
            args = member.get("args") or ()
            if any(_required(arg) for arg in args):
                continue
            returned, returned_type = self.returned(member["type"], f"{name}.{member['name']}")
            if returned_type.get("kind") in LEAVES:
                self.take_output(returned, returned_type, 0)
            elif args or levels == 0:
                continue  # a composite with arguments, or below the selection depth
            else:
                self.take_output(returned, returned_type, levels - 1)
            # Arguments are not read below the root (the selector only asks whether a field
            # has any), and dropping them spares their input types.
            fields.append({**member, "args": []} if args else member)
        self.kept[name] = {**named, "fields": fields, "interfaces": []}

    def drain(self) -> None:
        for levels in range(self.depth - 1, -1, -1):
            for name in self.buckets[levels]:
                if self.levels[name] == levels:  # else a later, deeper use took it over
                    self.output(name, levels)
        while self.inputs:
            named = self.types[self.inputs.pop()]
            for member in named["inputFields"]:
                self.take_input(member["type"], f"{named['name']}.{member['name']}")


def _required(arg: Mapping[str, Any]) -> bool:
    return arg["type"].get("kind") == "NON_NULL" and arg.get("defaultValue") is None


def project(introspection: Mapping[str, Any], *, depth: int, field: str) -> Projection:
    """The projection of `{"__schema": ...}` for default selections `depth` levels deep."""
    schema = introspection["__schema"]
    listed = schema.get("types")
    if not isinstance(listed, list):
        raise SpecParseError(
            "not a valid introspection result: `__schema.types` is not a list", field=field
        )
    try:
        types = {t["name"]: t for t in listed}
        walk = _Walk(types, depth, field)
        roots = []
        for key in ROOTS:
            ref = schema.get(key)
            if ref is not None:
                name, _ = walk.named(ref, f"__schema.{key}")
                roots.append(name)
        for name in roots:
            walk.root(name)
        walk.drain()
    except (TypeError, KeyError, AttributeError) as exc:
        raise SpecParseError(
            f"not a valid introspection result: {type(exc).__name__}: {exc}", field=field
        ) from exc
    projected = {**schema, "types": list(walk.kept.values()), "directives": []}
    count = sum(1 for name in types if not name.startswith("__"))
    return Projection(introspection={"__schema": projected}, types=count)
