"""Reading saved schemas: both introspection shapes and SDL are accepted; bad input (not GraphQL,
HTML, truncated JSON, errors only, absurd nesting, dangling references) fails naming the field;
cycles and 10,000 types are handled."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from graphql import build_schema, get_introspection_query, graphql_sync, introspection_from_schema

from plugins.graphql.servers import TYPE_DEFS
from switchboard.errors import IntrospectionDisabledError, SpecParseError, SpecTooLargeError
from switchboard.plugins.graphql.compiling import compile_schema
from switchboard.plugins.graphql.snapshots import load_schema

FIELD = "spec.graphql.introspection"
LIMIT = 64 * 1024 * 1024


def introspection() -> dict[str, Any]:
    return dict(introspection_from_schema(build_schema(TYPE_DEFS)))


def load(body: bytes, limit: int = LIMIT, depth: int = 2) -> Any:
    return load_schema(body, field=FIELD, limit=limit, depth=depth)


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ("data", "what a server answers: {data: {__schema}}"),
        ("bare", "what tools save: {__schema}"),
        ("sdl", "schema definition language text"),
    ],
)
def test_each_accepted_shape_gives_the_same_tools(shape: str, reason: str) -> None:
    if shape == "data":
        body = orjson.dumps({"data": introspection()})
    elif shape == "bare":
        body = orjson.dumps(introspection())
    else:
        body = TYPE_DEFS.encode()
    loaded = load(body)
    assert loaded.form == ("sdl" if shape == "sdl" else "introspection"), reason
    names = [t.name for t in compile_schema(loaded).toolset.tools]
    assert names[:2] == ["query.hello", "query.pets"], reason
    assert "mutation.setGreeting" in names and "subscription.petAdded" in names, reason


def test_errors_only_means_introspection_is_disabled() -> None:
    body = orjson.dumps({"errors": [{"message": "GraphQL introspection is not allowed"}]})
    with pytest.raises(IntrospectionDisabledError) as caught:
        load(body)
    assert caught.value.field == FIELD
    assert caught.value.reason == "IntrospectionDisabled"
    assert "introspection is not allowed" in str(caught.value)
    assert "spec.graphql.introspection" in caught.value.detail  # says what to do


def test_partial_data_with_errors_is_kept_with_a_warning() -> None:
    body = orjson.dumps({"data": introspection(), "errors": [{"message": "one field failed"}]})
    loaded = load(body)
    assert any("one field failed" in w for w in loaded.warnings)


BAD = [
    (b"", "empty", "empty"),
    (b"<!doctype html><html><body>502 Bad Gateway</body></html>", "SDL", "an HTML error page"),
    (b"not graphql at all", "SDL", "plain text"),
    (b'{"data": {"__schema": {"types": [', "not valid JSON", "truncated JSON"),
    (b'{"openapi": "3.1.0", "paths": {}}', "not an introspection result", "an OpenAPI document"),
    (b'{"data": null}', "not an introspection result", "data without a schema"),
    (b"[1, 2, 3]", "SDL", "a JSON array"),
    (b'{"__schema": {"types": "nope"}}', "not a valid introspection", "types is not a list"),
]


@pytest.mark.parametrize(("body", "needle", "reason"), BAD, ids=[r for *_, r in BAD])
def test_bad_documents_fail_naming_the_field(body: bytes, needle: str, reason: str) -> None:
    with pytest.raises(SpecParseError) as caught:
        load(body)
    assert caught.value.field == FIELD, reason
    assert needle in str(caught.value), reason


def test_a_dangling_type_reference_is_a_bad_schema_not_a_crash() -> None:
    data = introspection()
    query = next(t for t in data["__schema"]["types"] if t["name"] == "Query")
    query["fields"][0]["type"] = {"kind": "OBJECT", "name": "Missing", "ofType": None}
    with pytest.raises(SpecParseError, match="Missing"):
        load(orjson.dumps(data))


def test_absurdly_nested_type_references_are_refused() -> None:
    # Within JSON's nesting limit, far beyond any real schema's wrappers, deep enough to exhaust
    # the stack of anything that recursed through it.
    depth = 400
    ref = b'{"kind": "LIST", "name": null, "ofType": ' * depth
    ref += b'{"kind": "SCALAR", "name": "String", "ofType": null}' + b"}" * depth
    data = introspection()
    query = next(t for t in data["__schema"]["types"] if t["name"] == "Query")
    query["fields"][0]["type"] = "@@ref@@"
    body = orjson.dumps(data).replace(b'"@@ref@@"', ref)
    with pytest.raises(SpecParseError, match="more than 16 lists") as caught:
        load(body)
    assert caught.value.field == FIELD


def test_json_nested_past_the_parser_limit_is_refused() -> None:
    body = b'{"__schema": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(SpecParseError, match="not valid JSON"):
        load(body)


def test_the_size_cap_applies() -> None:
    with pytest.raises(SpecTooLargeError):
        load(orjson.dumps(introspection()), limit=1000)


CYCLES = """
type Query { a: A, tree(filter: Filter): Tree }
type A { id: ID! b: B }
type B { id: ID! a: A }
type Tree { label: String children: [Tree!]! parent: Tree }
input Filter { label: String not: Filter any: [Filter!] }
"""


def test_cycles_in_types_and_inputs_stay_finite() -> None:
    data = graphql_sync(build_schema(CYCLES), get_introspection_query()).data
    assert data is not None
    compiled = compile_schema(load(orjson.dumps({"data": data}), depth=5))
    by_name = {t.name: t for t in compiled.toolset.tools}
    # The self-referencing input is one definition that refers to itself.
    assert compiled.toolset.definitions["Filter"]["properties"]["not"] == {"$ref": "#/$defs/Filter"}
    # A type already on the path is not selected again, however deep the bound.
    assert by_name["query.a"].binding["document"] == "query A { a { id b { id } } }"
    assert by_name["query.tree"].binding["document"] == (
        "query Tree($filter: Filter) { tree(filter: $filter) { label } }"
    )


def _ref(kind: str, name: str, non_null: bool = False) -> dict[str, Any]:
    ref = {"kind": kind, "name": name, "ofType": None}
    return {"kind": "NON_NULL", "name": None, "ofType": ref} if non_null else ref


def _field(name: str, ref: dict[str, Any], args: list[Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "description": None,
        "args": args or [],
        "type": ref,
        "isDeprecated": False,
        "deprecationReason": None,
    }


def _input(name: str, ref: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "description": None, "type": ref, "defaultValue": None}


def _type(kind: str, name: str, **parts: Any) -> dict[str, Any]:
    empty = {"fields": None, "inputFields": None, "interfaces": None, "enumValues": None}
    return {
        "kind": kind,
        "name": name,
        "description": None,
        **empty,
        "possibleTypes": None,
        **parts,
    }


def generated(half: int) -> dict[str, Any]:
    """An introspection result written directly (graphql-core would take seconds to produce
    it): `half` object types in one reference cycle and `half` input types in another, and a
    Query with a field every 50 types."""
    objects = [
        _type(
            "OBJECT",
            f"T{i}",
            interfaces=[],
            fields=[
                _field("id", _ref("SCALAR", "ID", non_null=True)),
                _field("n", _ref("SCALAR", "Int")),
                _field("next", _ref("OBJECT", f"T{(i + 1) % half}")),
            ],
        )
        for i in range(half)
    ]
    inputs = [
        _type(
            "INPUT_OBJECT",
            f"I{i}",
            inputFields=[
                _input("v", _ref("SCALAR", "Int")),
                _input("next", _ref("INPUT_OBJECT", f"I{(i + 1) % half}")),
            ],
        )
        for i in range(half)
    ]
    query = _type(
        "OBJECT",
        "Query",
        interfaces=[],
        fields=[
            _field(f"t{i}", _ref("OBJECT", f"T{i}"), [_input("in", _ref("INPUT_OBJECT", f"I{i}"))])
            for i in range(0, half, 50)
        ],
    )
    scalars = [_type("SCALAR", name) for name in ("ID", "Int", "String", "Boolean")]
    types = [query, *objects, *inputs, *scalars]
    return {
        "__schema": {
            "queryType": {"name": "Query"},
            "mutationType": None,
            "subscriptionType": None,
            "types": types,
            "directives": [],
        }
    }


def test_ten_thousand_types() -> None:
    half = 5_000
    body = orjson.dumps(generated(half))
    started = time.perf_counter()
    compiled = compile_schema(load(body))
    elapsed = time.perf_counter() - started
    assert compiled.types == 2 * half + 1 + 4  # the generated types, Query, ID/Int/String/Boolean
    assert compiled.queries == 100
    # Every input is reachable through the cycle: each becomes one shared definition, once.
    assert len(compiled.toolset.definitions) == half
    assert compiled.toolset.definitions["I7"]["properties"]["next"] == {"$ref": "#/$defs/I8"}
    query = next(t for t in compiled.toolset.tools if t.name == "query.t50")
    assert query.binding["document"] == (
        "query T50($in: I50) { t50(in: $in) { id n next { id n } } }"
    )
    assert elapsed < 30, f"{elapsed:.1f} s for {2 * half:,} types"


def test_sdl_rule_violations_become_warnings() -> None:
    sdl = "type Query { a: Int a: Int b: String }"
    loaded = load(sdl.encode())
    assert loaded.warnings and "can only be defined once" in loaded.warnings[0]
    assert [t.name for t in compile_schema(loaded).toolset.tools] == ["query.a", "query.b"]


def test_sdl_syntax_errors_fail() -> None:
    with pytest.raises(SpecParseError, match="not valid GraphQL SDL"):
        load(b"type Query { a: }")
