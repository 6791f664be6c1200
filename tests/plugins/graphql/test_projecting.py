"""Cutting an introspection result down to what tools read gives exactly the tools of the whole
schema (GitHub's, the shop's, and a schema written to hit each rule of the cut), at every
selection depth; broken references in the part that is read still fail, naming the place."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import GraphQLSchema, build_client_schema, build_schema, introspection_from_schema

from plugins.graphql.servers import TYPE_DEFS
from switchboard.errors import SpecParseError
from switchboard.plugins.graphql.compiling import Compiled, compile_schema
from switchboard.plugins.graphql.projecting import project
from switchboard.plugins.graphql.snapshots import load_schema

FIELD = "spec.graphql.introspection"
DEPTHS = (1, 2, 3, 5)

RULES = """
\"\"\"Exercises each rule of the cut.\"\"\"
schema { query: Query mutation: Mutation }
type Query {
  node(id: ID!): Node
  search(q: String!, kind: Kind = ALL, filter: Filter): [Result!]!
  viewer: User
  kinds: [Kind!]!
}
type Mutation { rename(input: RenameInput!): RenamePayload }
input RenameInput { id: ID! name: String! tags: [Tag!] = [] }
input Tag { key: String! value: String nested: Tag }
input Filter { kinds: [Kind!] since: Stamp }
scalar Stamp
enum Kind { ALL USER ORG }
enum Plan { FREE PRO }
interface Node { id: ID! }
union Result = User | Org
type User implements Node {
  id: ID!
  login: String!
  plan: Plan
  old: String @deprecated(reason: "use login")
  repos(first: Int!): [Repo!]!
  pinned(first: Int = 3): [Repo!]!
  org: Org
  self: User
}
type Org implements Node { id: ID! name: String members: [User!]! owner: User }
type Repo { id: ID! name: String! owner: Org }
type RenamePayload { user: User query: Query clientMutationId: String }
"""


def introspection(sdl: str) -> dict[str, Any]:
    return dict(introspection_from_schema(build_schema(sdl)))


def dumped(compiled: Compiled) -> tuple[bytes, bytes, int]:
    tools = orjson.dumps([t.model_dump() for t in compiled.toolset.tools])
    return tools, orjson.dumps(compiled.toolset.definitions), compiled.types


def assert_same_tools(whole: GraphQLSchema, body: bytes) -> None:
    for depth in DEPTHS:
        cut = compile_schema(load_schema(body, field=FIELD, limit=10**9, depth=depth))
        assert dumped(cut) == dumped(compile_schema(whole, depth=depth)), f"depth {depth}"


def test_the_cut_gives_the_tools_of_the_whole_schema_on_each_rule() -> None:
    assert_same_tools(build_schema(RULES), orjson.dumps(introspection(RULES)))


def test_the_cut_gives_the_tools_of_the_whole_shop_schema() -> None:
    assert_same_tools(build_schema(TYPE_DEFS), orjson.dumps(introspection(TYPE_DEFS)))


def test_the_cut_gives_the_tools_of_the_whole_github_schema(github_json: Path) -> None:
    body = github_json.read_bytes()
    document = orjson.loads(body)
    assert_same_tools(build_client_schema(document, assume_valid=True), body)
    # And it is the point of it: most of GitHub's schema is never built.
    cut = project(document, depth=2, field=FIELD)
    kept = len(cut.introspection["__schema"]["types"])
    assert cut.types > 1500 and kept < cut.types / 2, (kept, cut.types)


def test_what_the_cut_keeps() -> None:
    cut = project(introspection(RULES), depth=1, field=FIELD)
    types = {t["name"]: t for t in cut.introspection["__schema"]["types"]}
    # Roots keep every field with its arguments, and every input type those reach.
    assert [f["name"] for f in types["Query"]["fields"]] == ["node", "search", "viewer", "kinds"]
    assert {"RenameInput", "Tag", "Filter", "Stamp", "Kind"} <= types.keys()
    # At depth 1 a returned type keeps its selectable leaves only: not the deprecated `old`,
    # not `repos` (a required argument), not the composite `org`; and no argument lists.
    assert [f["name"] for f in types["User"]["fields"]] == ["id", "login", "plan"]
    assert "Repo" not in types
    # A union keeps its members (their leaves); interfaces are not carried.
    assert {"User", "Org"} <= types.keys() and types["User"]["interfaces"] == []
    assert cut.introspection["__schema"]["directives"] == []


def test_the_count_of_types_is_the_whole_schemas() -> None:
    data = introspection(RULES)
    declared = [t["name"] for t in data["__schema"]["types"] if not t["name"].startswith("__")]
    loaded = load_schema(orjson.dumps(data), field=FIELD, limit=10**9, depth=1)
    assert loaded.types == len(declared) == compile_schema(loaded).types
    assert len(loaded.schema.type_map) < len(declared) + 8  # the cut is smaller


def _with(sdl: str, type_name: str, field_name: str, change: Any) -> bytes:
    data = introspection(sdl)
    named = next(t for t in data["__schema"]["types"] if t["name"] == type_name)
    member = next(f for f in (named["fields"] or named["inputFields"]) if f["name"] == field_name)
    change(member)
    return orjson.dumps(data)


def _refer(name: str, kind: str = "OBJECT") -> Any:
    def change(member: dict[str, Any]) -> None:
        member["type"] = {"kind": kind, "name": name, "ofType": None}

    return change


BROKEN = [
    ("Org", "owner", _refer("Nowhere"), "Org.owner refers to type 'Nowhere'", "below the root"),
    ("Tag", "nested", _refer("Missing", "INPUT_OBJECT"), "Tag.nested refers", "an input field"),
    (
        "Tag",
        "nested",
        _refer("User"),
        "Tag.nested takes User .OBJECT., which is not an input",
        "an object as input",
    ),
    (
        "Query",
        "viewer",
        _refer("Tag"),
        "Query.viewer returns Tag .INPUT_OBJECT., which is not an output",
        "an input as output",
    ),
]


@pytest.mark.parametrize(
    ("type_name", "field_name", "change", "needle", "reason"), BROKEN, ids=[b[-1] for b in BROKEN]
)
def test_broken_references_in_what_tools_read_fail_naming_the_place(
    type_name: str, field_name: str, change: Any, needle: str, reason: str
) -> None:
    body = _with(RULES, type_name, field_name, change)
    with pytest.raises(SpecParseError, match=needle) as caught:
        load_schema(body, field=FIELD, limit=10**9, depth=3)
    assert caught.value.field == FIELD, reason


def test_a_union_member_that_does_not_exist_is_named() -> None:
    data = introspection(RULES)
    union = next(t for t in data["__schema"]["types"] if t["name"] == "Result")
    union["possibleTypes"].append({"kind": "OBJECT", "name": "Ghost", "ofType": None})
    with pytest.raises(SpecParseError, match=re.escape("Result (a member) refers to type 'Ghost'")):
        load_schema(orjson.dumps(data), field=FIELD, limit=10**9)


def test_types_no_root_field_reaches_are_not_read() -> None:
    # Deliberate: what no tool can use is not built, so its faults cost nothing and fail
    # nothing. (A reference to it from a part that is read would fail, as above.)
    sdl = RULES + "type Island { id: ID! }"
    body = _with(sdl, "Island", "id", _refer("Nowhere"))
    loaded = load_schema(body, field=FIELD, limit=10**9)
    assert "Island" not in loaded.schema.type_map
    assert loaded.types == sum(1 for n in build_schema(sdl).type_map if not n.startswith("__"))


def test_a_loaded_schema_does_not_compile_deeper_than_it_was_cut() -> None:
    loaded = load_schema(orjson.dumps(introspection(RULES)), field=FIELD, limit=10**9, depth=2)
    assert compile_schema(loaded, depth=1).toolset.tools  # shallower is a subset: fine
    with pytest.raises(ValueError, match="2 deep, not 3"):
        compile_schema(loaded, depth=3)
