"""Cutting an introspection result down to what tools read gives exactly the tools of the whole
schema (GitHub's, the shop's, and a schema written to hit each rule of the cut), at every
selection depth; what is read is checked as graphql-core checks what it builds, and each fault
there fails naming the place. (That the tools themselves are right, graphql-core's validator and
the live server say in test_compiling and test_registration.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import build_schema, introspection_from_schema

from plugins.graphql.servers import TYPE_DEFS
from switchboard.errors import SpecParseError
from switchboard.plugins.graphql.compiling import Compiled, compile_schema
from switchboard.plugins.graphql.projecting import ROOTS, Projection, project
from switchboard.plugins.graphql.snapshots import LoadedSchema, load_schema

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


def uncut(document: dict[str, Any], depth: int) -> LoadedSchema:
    """The whole schema, every type and field as the document has it, compiled as it is."""
    schema = document["__schema"]
    roots = {kind: schema[key]["name"] for kind, key in ROOTS if schema.get(key)}
    types = {t["name"]: t for t in schema["types"]}
    declared = sum(1 for name in types if not name.startswith("__"))
    whole = Projection(types=types, roots=roots, declared=declared, depth=depth)
    return LoadedSchema(projection=whole, form="introspection")


def assert_same_tools(document: dict[str, Any]) -> None:
    body = orjson.dumps(document)
    for depth in DEPTHS:
        cut = compile_schema(load_schema(body, field=FIELD, limit=10**9, depth=depth))
        assert dumped(cut) == dumped(compile_schema(uncut(document, depth))), f"depth {depth}"


def test_the_cut_gives_the_tools_of_the_whole_schema_on_each_rule() -> None:
    assert_same_tools(introspection(RULES))


def test_the_cut_gives_the_tools_of_the_whole_shop_schema() -> None:
    assert_same_tools(introspection(TYPE_DEFS))


def test_the_cut_gives_the_tools_of_the_whole_github_schema(github_json: Path) -> None:
    document = orjson.loads(github_json.read_bytes())
    assert_same_tools(document)
    # And it is the point of it: most of GitHub's schema is never read.
    cut = project(document, depth=2, field=FIELD)
    assert cut.declared > 1500 and len(cut.types) < cut.declared / 2, len(cut.types)


def test_what_the_cut_keeps() -> None:
    cut = project(introspection(RULES), depth=1, field=FIELD)
    types = cut.types
    # Roots keep every field with its arguments, and every input type those reach.
    assert [f["name"] for f in types["Query"]["fields"]] == ["node", "search", "viewer", "kinds"]
    assert {"RenameInput", "Tag", "Filter", "Stamp", "Kind"} <= types.keys()
    # At depth 1 a returned type keeps its selectable leaves only: not the deprecated `old`,
    # not `repos` (a required argument), not the composite `org`; and no argument lists.
    assert [f["name"] for f in types["User"]["fields"]] == ["id", "login", "plan"]
    assert "Repo" not in types
    # A union keeps its members (their leaves).
    assert {"User", "Org"} <= types.keys() and types["Result"]["kind"] == "UNION"
    assert cut.roots == {"query": "Query", "mutation": "Mutation"}
    assert cut.description == "Exercises each rule of the cut."


def test_the_count_of_types_is_the_whole_schemas() -> None:
    data = introspection(RULES)
    declared = [t["name"] for t in data["__schema"]["types"] if not t["name"].startswith("__")]
    loaded = load_schema(orjson.dumps(data), field=FIELD, limit=10**9, depth=1)
    assert loaded.types == len(declared) == compile_schema(loaded).types
    assert len(loaded.projection.types) < len(declared)  # the cut is smaller


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
    assert "Island" not in loaded.projection.types
    assert loaded.types == sum(1 for n in build_schema(sdl).type_map if not n.startswith("__"))


def test_a_loaded_schema_does_not_compile_deeper_than_it_was_cut() -> None:
    loaded = load_schema(orjson.dumps(introspection(RULES)), field=FIELD, limit=10**9, depth=2)
    assert compile_schema(loaded, depth=1).toolset.tools  # shallower is a subset: fine
    with pytest.raises(ValueError, match="2 deep, not 3"):
        compile_schema(loaded, depth=3)


def _rename(name: str) -> Any:
    def change(member: dict[str, Any]) -> None:
        member["name"] = name

    return change


def _wrap(ref: dict[str, Any]) -> Any:
    def change(member: dict[str, Any]) -> None:
        member["type"] = ref

    return change


NON_NULL_TWICE = {
    "kind": "NON_NULL",
    "name": None,
    "ofType": {"kind": "NON_NULL", "name": None, "ofType": {"kind": "SCALAR", "name": "ID"}},
}
EMPTY_LIST = {"kind": "LIST", "name": None, "ofType": None}
MALFORMED = [
    # A name is written into operation documents as it is: one that is not a GraphQL name
    # could carry a second operation into every call of the tool.
    ("Query", "viewer", _rename("viewer } mutation { x"), "is not a GraphQL name", "injection"),
    (
        "User",
        "login",
        _rename("log in"),
        "User.log in: 'log in' is not a GraphQL",
        "a selected one",
    ),
    ("Tag", "key", _rename("1key"), "Tag.1key: '1key' is not a GraphQL name", "an input field"),
    ("User", "id", _wrap(NON_NULL_TWICE), "User.id has a non-null of a non-null", "!!"),
    ("Org", "name", _wrap(EMPTY_LIST), "Org.name has a LIST wrapper around nothing", "[]"),
]


@pytest.mark.parametrize(
    ("type_name", "field_name", "change", "needle", "reason"),
    MALFORMED,
    ids=[m[-1] for m in MALFORMED],
)
def test_malformed_parts_that_tools_read_fail_naming_the_place(
    type_name: str, field_name: str, change: Any, needle: str, reason: str
) -> None:
    body = _with(RULES, type_name, field_name, change)
    with pytest.raises(SpecParseError, match=re.escape(needle)) as caught:
        load_schema(body, field=FIELD, limit=10**9, depth=3)
    assert caught.value.field == FIELD, reason


def test_a_root_type_must_be_an_object_type() -> None:
    data = introspection(RULES)
    data["__schema"]["mutationType"] = {"name": "RenameInput"}
    with pytest.raises(SpecParseError, match="root type RenameInput is a INPUT_OBJECT"):
        load_schema(orjson.dumps(data), field=FIELD, limit=10**9)


def test_sdl_is_cut_for_the_depth_asked_too() -> None:
    shallow = compile_schema(load_schema(RULES.encode(), field=FIELD, limit=10**9, depth=1))
    deep = compile_schema(load_schema(RULES.encode(), field=FIELD, limit=10**9, depth=3))
    viewer = {t.name: t.binding["document"] for t in shallow.toolset.tools}["query.viewer"]
    assert viewer == "query Viewer { viewer { id login plan } }"
    viewer = {t.name: t.binding["document"] for t in deep.toolset.tools}["query.viewer"]
    assert viewer == "query Viewer { viewer { id login plan org { id name } } }"
