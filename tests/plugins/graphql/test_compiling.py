"""Schema → tools on the shop schema: names, descriptions, annotations, argument schemas with
shared `$defs`, and default selection sets that graphql-core's validator accepts and the real
server executes."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import pytest
from graphql import GraphQLSchema, build_client_schema, build_schema, parse, validate

from plugins.graphql.servers import TOKEN, TYPE_DEFS, Running
from switchboard.models.records import ToolDefinition
from switchboard.plugins.graphql.compiling import compile_schema
from switchboard.plugins.graphql.snapshots import LoadedSchema, load_schema
from switchboard.storage.outbound import OutboundClient


def at_depth(snapshot: bytes, depth: int) -> LoadedSchema:
    return load_schema(snapshot, field="f", limit=10**8, depth=depth)


@pytest.fixture
def schema(shop_snapshot: bytes) -> LoadedSchema:
    """As registration loads it: cut to what default selections of the default depth read."""
    return load_schema(shop_snapshot, field="f", limit=10**8)


@pytest.fixture
def whole(shop_snapshot: bytes) -> GraphQLSchema:
    """The whole schema, for graphql-core's validator."""
    return build_client_schema(orjson.loads(shop_snapshot)["data"])


@pytest.fixture
def tools(schema: LoadedSchema) -> dict[str, ToolDefinition]:
    return {t.name: t for t in compile_schema(schema).toolset.tools}


def test_reference_case_57_hello_and_set_greeting(tools: dict[str, ToolDefinition]) -> None:
    assert tools["query.hello"].description == "Say hello"
    assert tools["query.hello"].annotations == {}
    assert tools["mutation.setGreeting"].annotations == {
        "requiresApproval": True,
        "approvalDescription": "mutation setGreeting",
    }


def test_every_root_field_is_a_tool_and_subscriptions_are_flagged(
    tools: dict[str, ToolDefinition],
) -> None:
    assert list(tools) == [
        "query.hello",
        "query.pets",
        "query.pet",
        "query.node",
        "query.search",
        "query.empty",
        "query.me",
        "query.legacy",
        "mutation.setGreeting",
        "mutation.addPet",
        "mutation.deletePet",
        "subscription.petAdded",
    ]
    flagged = tools["subscription.petAdded"].annotations
    assert flagged["invocable"] is False and "stream" in flagged["notInvocableReason"]


def test_descriptions_fall_back_to_the_signature_and_note_deprecation(
    tools: dict[str, ToolDefinition],
) -> None:
    assert tools["query.pets"].description == "GraphQL query: pets -> [Pet!]!"
    assert tools["mutation.addPet"].description == "GraphQL mutation: addPet -> Pet!"
    legacy = tools["query.legacy"]
    assert legacy.description.endswith("Deprecated: gone soon")
    assert legacy.annotations == {"deprecated": True}


def test_argument_schemas_share_definitions(schema: LoadedSchema) -> None:
    toolset = compile_schema(schema).toolset
    by_name = {t.name: t for t in toolset.tools}
    pets = by_name["query.pets"].input_schema
    assert pets == {
        "type": "object",
        "properties": {
            "filter": {"$ref": "#/$defs/PetFilter"},
            "order": {"$ref": "#/$defs/SortOrder", "default": "ASC"},
            "first": {"type": "integer", "default": 10},
        },
        "additionalProperties": False,
    }, "a non-null argument with a default is optional"
    assert by_name["query.pet"].input_schema == {
        "type": "object",
        "properties": {"id": {"type": "string"}},
        "required": ["id"],
        "additionalProperties": False,
    }
    defs = toolset.definitions
    assert set(defs) == {"PetFilter", "SortOrder", "Color", "DateRange", "DateTime", "NewPet"}
    assert defs["Color"] == {"type": "string", "enum": ["RED", "GREEN", "BLUE", "PURPLE"]}
    assert defs["PetFilter"]["properties"]["and"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/PetFilter"},
    }
    assert defs["PetFilter"]["description"] == "How to filter pets; filters nest."
    assert defs["DateRange"]["required"] == ["from"]
    assert defs["DateTime"] == {
        "type": "string",
        "format": "date-time",
        "description": "An ISO-8601 date and time.",
    }
    assert defs["NewPet"]["properties"]["color"] == {"$ref": "#/$defs/Color", "default": "RED"}
    assert defs["NewPet"]["properties"]["tags"]["default"] == []


def test_argument_schemas_are_valid_json_schema_and_check_arguments(
    schema: LoadedSchema,
) -> None:
    toolset = compile_schema(schema).toolset
    for tool in toolset.tools:
        document = {**(tool.input_schema or {}), "$defs": toolset.definitions}
        jsonschema.Draft202012Validator.check_schema(document)
    add = next(t for t in toolset.tools if t.name == "mutation.addPet")
    validator = jsonschema.Draft202012Validator({**add.input_schema, "$defs": toolset.definitions})  # type: ignore[dict-item]
    assert validator.is_valid({"input": {"name": "Rex", "color": "GREEN"}})
    assert not validator.is_valid({"input": {"name": "Rex", "color": "MAUVE"}})
    assert not validator.is_valid({"input": {"color": "RED"}})  # name is required
    assert not validator.is_valid({})


def test_default_selections_are_valid_at_every_depth(
    shop_snapshot: bytes, whole: GraphQLSchema
) -> None:
    for depth in (1, 2, 3, 5):
        for tool in compile_schema(at_depth(shop_snapshot, depth)).toolset.tools:
            errors = validate(whole, parse(tool.binding["document"]))
            assert not errors, f"{tool.name} at depth {depth}: {errors[0].message}"


def test_selection_shapes(tools: dict[str, ToolDefinition]) -> None:
    def document(name: str) -> str:
        return str(tools[name].binding["document"])

    assert document("query.hello") == "query Hello($name: String) { hello(name: $name) }"
    # Leaves (not the deprecated one, not the one needing an argument), then argument-free
    # nested objects one level down; `friends` is the type itself, so it is not repeated.
    assert document("query.pet") == (
        "query Pet($id: ID!) { pet(id: $id) { id name color tags born weight owner { id name } } }"
    )
    # Abstract types name their concrete type.
    assert document("query.node") == "query Node($id: ID!) { node(id: $id) { __typename id } }"
    # Union members sharing a field name with another type get an alias, so the set merges.
    assert document("query.search") == (
        "query Search($text: String!) { search(text: $text) { __typename "
        "... on Pet { id name color tags born weight } "
        "... on Person { id name } "
        "... on Receipt { id_Receipt: id name_Receipt: name total } } }"
    )
    # A composite with nothing to select says which type it is.
    assert document("query.empty") == "query Empty { empty { __typename } }"
    assert document("query.pets").startswith(
        "query Pets($filter: PetFilter, $order: SortOrder, $first: Int) "
        "{ pets(filter: $filter, order: $order, first: $first) {"
    )


def test_depth_one_selects_only_leaves(shop_snapshot: bytes) -> None:
    tools = {t.name: t for t in compile_schema(at_depth(shop_snapshot, 1)).toolset.tools}
    assert "owner" not in tools["query.pet"].binding["document"]
    deeper = {t.name: t for t in compile_schema(at_depth(shop_snapshot, 3)).toolset.tools}
    assert "address { street city geo { lat lng } }" in deeper["query.me"].binding["document"]


def test_bindings_name_the_operation(tools: dict[str, ToolDefinition]) -> None:
    binding = tools["mutation.addPet"].binding
    assert binding["operationType"] == "mutation"
    assert binding["field"] == "addPet"
    assert binding["operationName"] == "AddPet"
    assert binding["variables"] == ["input"]


CALLS: list[tuple[str, dict[str, Any], Any]] = [
    ("query.hello", {}, {"hello": "hello, world"}),
    ("query.pet", {"id": "p1"}, {"pet": {"id": "p1", "owner": {"id": "u1", "name": "Ada"}}}),
    ("query.pets", {"filter": {"color": "BLUE"}}, {"pets": [{"name": "Tom", "owner": None}]}),
    ("query.search", {"text": "x"}, {"search": [{"__typename": "Pet"}, {"__typename": "Person"}]}),
    ("mutation.addPet", {"input": {"name": "Kit"}}, {"addPet": {"name": "Kit", "color": "RED"}}),
]


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            _contains(actual.get(k), v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            _contains(a, e) for a, e in zip(actual, expected, strict=False)
        )
    return bool(actual == expected)


@pytest.mark.parametrize(("name", "variables", "expected"), CALLS, ids=[c[0] for c in CALLS])
async def test_generated_operations_run_on_the_real_server(
    tools: dict[str, ToolDefinition],
    shop: Running,
    outbound: OutboundClient,
    name: str,
    variables: dict[str, Any],
    expected: Any,
) -> None:
    binding = tools[name].binding
    body = orjson.dumps(
        {
            "query": binding["document"],
            "operationName": binding["operationName"],
            "variables": variables,
        }
    )
    response = await outbound.request(
        "POST",
        shop.url,
        headers={"content-type": "application/json", "authorization": f"Bearer {TOKEN}"},
        content=body,
    )
    answer = orjson.loads(response.body)
    assert response.status == 200 and "errors" not in answer, answer
    assert _contains(answer["data"], expected), answer["data"]


def test_sdl_and_introspection_of_one_schema_compile_alike(schema: LoadedSchema) -> None:
    from_sdl = compile_schema(build_schema(TYPE_DEFS)).toolset
    from_json = compile_schema(schema).toolset
    assert [t.model_dump() for t in from_sdl.tools] == [t.model_dump() for t in from_json.tools]
    assert from_sdl.definitions == from_json.definitions
