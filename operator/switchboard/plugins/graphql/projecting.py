"""The part of an introspection result that tools read, checked and cut out of the rest.

Compiling reads the root fields with their arguments (and, through them, every input type they
can reach) and, for the default selections, the output types a selection of `depth` levels can
reach, of which only the fields it can select. A large schema is mostly the rest: GitHub's 1,600
types are each reached by some path, but a mutation's tool reads its payload's leaves and its
neighbours' leaves and nothing beyond. Reading only that part is what keeps registering GitHub's
5 MB schema within a few JSON parses' time.

The projection keeps each type's own field order, descriptions and deprecations, so selections
come out exactly as from the whole schema (`tests/plugins/graphql/test_projecting.py` compares
them). What the projection keeps is checked as graphql-core checks a schema it builds: names that
will be written into operation documents, references to defined types, input types in input
positions and output types in output positions, sane wrappers. Types no root field can reach are
not read at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.errors import SpecParseError
from switchboard.plugins.graphql.typerefs import (
    LEAVES,
    NAME,
    WRAPPERS,
    Ref,
    TypeDef,
    selectable,
)

MAX_WRAPPERS = 16
"""List and non-null wrappers around one type: real schemas use up to five (`[[Int!]!]!`) and the
standard introspection query reads eight; deeper nesting only serves to exhaust the stack."""
ROOTS = (("query", "queryType"), ("mutation", "mutationType"), ("subscription", "subscriptionType"))
SELECTABLE = frozenset({"OBJECT", "INTERFACE"})
OUTPUTS = LEAVES | SELECTABLE | {"UNION"}
INPUTS = frozenset({"INPUT_OBJECT", "ENUM", "SCALAR"})


@dataclass
class Projection:
    """What tools read of a schema, in introspection's shape."""

    types: dict[str, TypeDef]
    """The named types read, by name; a non-root output type keeps only the fields a default
    selection can take (without their arguments, which selections never pass)."""
    roots: dict[str, str]
    """Operation kind (`query`, `mutation`, `subscription`) to its root type's name."""
    declared: int
    """Named types the whole schema declares (introspection's own `__` types not counted)."""
    depth: int
    """The deepest default selection this projection answers for."""
    description: str | None = None


class _Walk:
    def __init__(self, types: Mapping[str, TypeDef], depth: int, field: str) -> None:
        self.types = types
        self.depth = depth
        self.field = field
        self.kept: dict[str, TypeDef] = {}
        self.levels: dict[str, int] = {}
        """Output types scheduled, with the most levels of selection any use leaves below them."""
        self.buckets: list[list[str]] = [[] for _ in range(depth)]
        self.inputs: list[str] = []

    def fail(self, message: str) -> SpecParseError:
        return SpecParseError(message, field=self.field)

    def name(self, name: object, where: str) -> None:
        if not isinstance(name, str) or NAME.fullmatch(name) is None:
            raise self.fail(f"{where}: {name!r} is not a GraphQL name ([_A-Za-z][_0-9A-Za-z]*)")

    def named(self, ref: Ref, where: str) -> tuple[str, TypeDef]:
        """The named type under a reference's wrappers, which must exist."""
        wrappers = 0
        while ref.get("kind") in WRAPPERS:
            inner = ref.get("ofType")
            if not isinstance(inner, Mapping):
                raise self.fail(f"{where} has a {ref['kind']} wrapper around nothing")
            if ref["kind"] == "NON_NULL" and inner.get("kind") == "NON_NULL":
                raise self.fail(f"{where} has a non-null of a non-null")
            ref, wrappers = inner, wrappers + 1
            if wrappers > MAX_WRAPPERS:
                raise self.fail(
                    f"{where} has a type wrapped in more than {MAX_WRAPPERS} lists and "
                    "non-nulls; this is not a real schema"
                )
        name = ref.get("name")
        named = self.types.get(name) if isinstance(name, str) else None
        if named is None:
            raise self.fail(f"{where} refers to type {name!r}, which the schema does not define")
        return name, named  # type: ignore[return-value]  # a str: it was found in the map

    def returned(self, ref: Ref, where: str) -> tuple[str, TypeDef]:
        """The named type a field returns, which must be an output type."""
        name, named = self.named(ref, where)
        if named.get("kind") not in OUTPUTS:
            raise self.fail(
                f"{where} returns {name} ({named.get('kind')}), which is not an output type"
            )
        return name, named

    def take_input(self, ref: Ref, where: str) -> None:
        name, named = self.named(ref, where)
        kind = named.get("kind")
        if kind not in INPUTS:
            raise self.fail(f"{where} takes {name} ({kind}), which is not an input type")
        if name in self.kept:
            return
        self.name(name, f"{where} (its type)")
        self.kept[name] = named
        if kind == "INPUT_OBJECT":
            self.inputs.append(name)
        elif kind == "ENUM" and not isinstance(named.get("enumValues"), list):
            raise self.fail(f"enum {name} has no list of values")

    def take_output(self, name: str, named: TypeDef, levels: int) -> None:
        """Keep a leaf; schedule a composite with `levels` of nested selection below it."""
        if named["kind"] in LEAVES:
            if name not in self.kept:
                self.name(name, f"type {name}")
                self.kept[name] = named
        elif self.levels.get(name, -1) < levels:
            self.levels[name] = levels
            self.buckets[levels].append(name)

    def fields(self, name: str, named: TypeDef) -> list[Mapping[str, Any]]:
        fields = named.get("fields")
        if not isinstance(fields, list):
            raise self.fail(f"{name} ({named.get('kind')}) has no list of fields")
        return fields

    def root(self, name: str) -> None:
        """A root type keeps every field with its arguments: each is a tool."""
        named = self.types[name]
        if named.get("kind") != "OBJECT":
            raise self.fail(f"the root type {name} is a {named.get('kind')}, not an object type")
        self.name(name, f"type {name}")
        self.kept[name] = named
        self.levels[name] = self.depth  # never cut down by a nested use
        for member in self.fields(name, named):
            where = f"{name}.{member['name']}"
            self.name(member["name"], where)
            for arg in member.get("args") or ():
                self.name(arg["name"], f"{where}({arg['name']})")
                self.take_input(arg["type"], f"{where}({arg['name']})")
            returned, returned_type = self.returned(member["type"], where)
            self.take_output(returned, returned_type, self.depth - 1)

    def output(self, name: str, levels: int) -> None:
        named = self.types[name]
        self.name(name, f"type {name}")
        if named["kind"] == "UNION":
            members = named.get("possibleTypes")
            if not isinstance(members, list):
                raise self.fail(f"union {name} has no list of members")
            for member in members:
                member_name, member_type = self.named(member, f"{name} (a member)")
                if member_type.get("kind") != "OBJECT":
                    raise self.fail(
                        f"union {name} lists {member_name}, which is not an object type"
                    )
                self.take_output(member_name, member_type, 0)  # a union selects members' leaves
            self.kept[name] = named
            return
        kept = []
        for member in self.fields(name, named):
            if not selectable(member):
                continue  # never selected by default
            args = member.get("args") or ()
            where = f"{name}.{member['name']}"
            returned, returned_type = self.returned(member["type"], where)
            if returned_type["kind"] in LEAVES:
                self.take_output(returned, returned_type, 0)
            elif args or levels == 0:
                continue  # a composite with arguments, or below the selection depth
            else:
                self.take_output(returned, returned_type, levels - 1)
            self.name(member["name"], where)
            # Arguments are not read below the root (a selection only asks whether a field has
            # any), and dropping them spares their input types.
            kept.append({**member, "args": []} if args else member)
        self.kept[name] = {**named, "fields": kept}

    def drain(self) -> None:
        for levels in range(self.depth - 1, -1, -1):
            for name in self.buckets[levels]:
                if self.levels[name] == levels:  # else a later, deeper use took it over
                    self.output(name, levels)
        while self.inputs:
            named = self.types[self.inputs.pop()]
            members = named.get("inputFields")
            if not isinstance(members, list):
                raise self.fail(f"input {named['name']} has no list of fields")
            for member in members:
                where = f"{named['name']}.{member['name']}"
                self.name(member["name"], where)
                self.take_input(member["type"], where)


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
        roots = {}
        for kind, key in ROOTS:
            ref = schema.get(key)
            if ref is not None:
                roots[kind], _ = walk.named(ref, f"__schema.{key}")
        for name in dict.fromkeys(roots.values()):
            walk.root(name)
        walk.drain()
    except (TypeError, KeyError, AttributeError) as exc:
        raise SpecParseError(
            f"not a valid introspection result: {type(exc).__name__}: {exc}", field=field
        ) from exc
    description = schema.get("description")
    return Projection(
        types=walk.kept,
        roots=roots,
        declared=sum(1 for name in types if not name.startswith("__")),
        depth=depth,
        description=description if isinstance(description, str) else None,
    )
