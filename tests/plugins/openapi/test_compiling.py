"""Operations to tools: input and output schemas, approval annotations (case 54), shared `$defs`,
servers with variables, Swagger 2.0 conversion, YAML and OpenAPI 3.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from harness.http import LoopbackServer, Reply
from plugins.openapi.helpers import make_ctx, openapi, register, tool
from switchboard.errors import SpecParseError
from switchboard.plugins.contract import RegistrationRequest
from switchboard.plugins.openapi import plugin

PET = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "parent": {"$ref": "#/components/schemas/Pet"}},
}
PETSTORE = openapi(
    {
        "/pets": {
            "parameters": [{"name": "X-Trace", "in": "header", "schema": {"type": "string"}}],
            "get": {
                "operationId": "listPets",
                "tags": ["pets"],
                "summary": "List pets",
                "parameters": [
                    {"$ref": "#/components/parameters/limit"},
                    {
                        "name": "X-Trace",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Pet"},
                                }
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "createPet",
                "tags": ["pets"],
                "requestBody": {"$ref": "#/components/requestBodies/PetBody"},
                "responses": {"201": {"$ref": "#/components/responses/OnePet"}},
            },
        },
        "/pets/{petId}": {
            "get": {
                "operationId": "getPet",
                "tags": ["pets"],
                "description": "One pet",
                "parameters": [{"name": "petId", "in": "path", "schema": {"type": "integer"}}],
                "responses": {"default": {"$ref": "#/components/responses/OnePet"}},
            }
        },
    },
    components={
        "schemas": {"Pet": PET},
        "parameters": {
            "limit": {
                "name": "limit",
                "in": "query",
                "description": "How many",
                "schema": {"type": "integer"},
            }
        },
        "requestBodies": {
            "PetBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
                    "application/xml": {"schema": {"$ref": "#/components/schemas/Pet"}},
                },
            }
        },
        "responses": {
            "OnePet": {
                "description": "a pet",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
            }
        },
    },
    servers=[{"url": "https://pets.example.com/v1"}],
)


async def test_input_output_and_shared_defs(tmp_path: Path) -> None:
    registration = await register(tmp_path, PETSTORE)
    names = [t.name for t in registration.toolset.tools]
    assert names == ["pets.createPet", "pets.getPet", "pets.listPets"]
    listing = tool(registration, "pets.listPets")
    assert listing.input_schema == {
        "type": "object",
        "properties": {
            "X-Trace": {"type": "string"},
            "limit": {"type": "integer", "description": "How many"},
        },
        "required": ["X-Trace"],
        "additionalProperties": False,
    }
    assert listing.output_schema == {"type": "array", "items": {"$ref": "#/$defs/Pet"}}
    assert listing.description == "List pets"
    assert listing.binding["parameters"] == [
        {"name": "X-Trace", "in": "header"},
        {"name": "limit", "in": "query"},
    ]
    create = tool(registration, "pets.createPet")
    assert create.input_schema is not None
    assert create.input_schema["properties"]["body"] == {"$ref": "#/$defs/Pet"}
    assert create.input_schema["properties"]["contentType"]["enum"] == [
        "application/json",
        "application/xml",
    ]
    assert create.input_schema["required"] == ["body"]
    assert create.output_schema == {"$ref": "#/$defs/Pet"}
    get = tool(registration, "pets.getPet")
    assert get.input_schema is not None and get.input_schema["required"] == ["petId"]
    assert get.output_schema == {"$ref": "#/$defs/Pet"}
    # $defs are stored once, with their own references rewritten too.
    assert registration.toolset.definitions == {
        "Pet": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "parent": {"$ref": "#/$defs/Pet"}},
        }
    }
    assert registration.details == {
        "openapiVersion": "3.0.3",
        "title": "Test API",
        "operationCount": 3,
    }


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        pytest.param(
            "post", {"requiresApproval": True, "approvalDescription": "POST /items"}, id="54: POST"
        ),
        pytest.param(
            "put", {"requiresApproval": True, "approvalDescription": "PUT /items"}, id="PUT"
        ),
        pytest.param(
            "patch", {"requiresApproval": True, "approvalDescription": "PATCH /items"}, id="PATCH"
        ),
        pytest.param(
            "delete",
            {"requiresApproval": True, "approvalDescription": "DELETE /items"},
            id="DELETE",
        ),
        pytest.param("get", {}, id="54: GET needs no approval"),
        pytest.param("head", {}, id="HEAD"),
    ],
)
async def test_case_54_annotations(tmp_path: Path, method: str, expected: dict[str, Any]) -> None:
    registration = await register(tmp_path, openapi({"/items": {method: {"responses": {}}}}))
    [only] = registration.toolset.tools
    assert only.annotations == expected
    assert only.description == f"{method.upper()} /items"


async def test_servers_with_variables_and_path_level_servers(tmp_path: Path) -> None:
    document = openapi(
        {
            "/a": {"get": {"operationId": "readA", "responses": {}}},
            "/b": {
                "servers": [{"url": "https://b.example.com"}],
                "get": {"operationId": "readB", "responses": {}},
                "post": {
                    "operationId": "writeB",
                    "servers": [{"url": "https://write.example.com"}],
                    "responses": {},
                },
            },
        },
        servers=[
            {
                "url": "https://{region}.example.com/{version}",
                "variables": {
                    "region": {"default": "eu", "enum": ["eu", "us"]},
                    "version": {"default": "v2"},
                },
            }
        ],
    )
    registration = await register(tmp_path, document)
    a = tool(registration, "a.readA")
    assert a.binding["servers"] == [
        {
            "url": "https://{region}.example.com/{version}",
            "variables": {
                "region": {"default": "eu", "enum": ["eu", "us"]},
                "version": {"default": "v2"},
            },
        }
    ]
    server = a.input_schema["properties"]["server"]
    assert server["properties"]["variables"]["properties"]["region"]["enum"] == ["eu", "us"]
    assert tool(registration, "b.readB").binding["servers"] == [{"url": "https://b.example.com"}]
    assert tool(registration, "b.writeB").binding["servers"] == [
        {"url": "https://write.example.com"}
    ]
    assert tool(registration, "b.readB").input_schema is None  # one plain server: nothing to choose
    assert plugin.describe_display(registration.record.config) == "https://eu.example.com/v2"


async def test_relative_servers_resolve_against_the_spec_url(http_server: LoopbackServer) -> None:
    document = openapi(
        {"/x": {"get": {"operationId": "readX", "responses": {}}}}, servers=[{"url": "/api/v3"}]
    )
    http_server.routes["/specs/openapi.json"] = Reply(200, orjson.dumps(document))
    ctx = make_ctx(Path("/nonexistent"))
    request = RegistrationRequest(
        tenant="t", slug="x", config={"source": {"url": f"{http_server.url}/specs/openapi.json"}}
    )
    registration = await plugin.register(request, ctx)
    assert tool(registration, "x.readX").binding["servers"] == [
        {"url": f"{http_server.url}/api/v3"}
    ]
    assert registration.record.can_refresh is True
    await ctx.http.aclose()  # type: ignore[attr-defined]


async def test_base_url_override_is_kept_and_displayed(tmp_path: Path) -> None:
    registration = await register(
        tmp_path, PETSTORE, config={"baseUrl": "https://proxy.example.com"}
    )
    assert registration.record.config["baseUrl"] == "https://proxy.example.com"
    assert registration.display_url == "https://proxy.example.com"


async def test_relative_server_without_a_url_warns(tmp_path: Path) -> None:
    document = openapi({"/x": {"get": {"responses": {}}}}, servers=[{"url": "/v1"}])
    registration = await register(tmp_path, document)
    assert any("baseUrl" in w for w in registration.warnings)


SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "Pet Store 2"},
    "host": "petstore.example.com",
    "basePath": "/v2",
    "schemes": ["https"],
    "consumes": ["application/json"],
    "parameters": {"limit": {"name": "limit", "in": "query", "type": "integer", "maximum": 50}},
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "tags": ["pets"],
                "parameters": [
                    {"$ref": "#/parameters/limit"},
                    {
                        "name": "tags",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "csv",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                    }
                },
            },
            "post": {
                "operationId": "addPet",
                "tags": ["pets"],
                "parameters": [
                    {
                        "name": "pet",
                        "in": "body",
                        "required": True,
                        "schema": {"$ref": "#/definitions/Pet"},
                    }
                ],
                "responses": {"200": {"$ref": "#/responses/Ok"}},
            },
        },
        "/pets/{id}/photo": {
            "parameters": [{"name": "id", "in": "path", "required": True, "type": "string"}],
            "post": {
                "operationId": "uploadPhoto",
                "tags": ["pets"],
                "consumes": ["multipart/form-data"],
                "parameters": [
                    {"name": "file", "in": "formData", "type": "file", "required": True},
                    {"name": "caption", "in": "formData", "type": "string"},
                ],
                "responses": {"200": {"description": "ok"}},
            },
        },
    },
    "responses": {"Ok": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}},
    "definitions": {
        "Pet": {"type": "object", "properties": {"friend": {"$ref": "#/definitions/Pet"}}}
    },
}


async def test_swagger_2_is_converted(tmp_path: Path) -> None:
    registration = await register(tmp_path, SWAGGER)
    assert registration.details["openapiVersion"] == "2.0"
    assert registration.toolset.definitions == {
        "Pet": {"type": "object", "properties": {"friend": {"$ref": "#/$defs/Pet"}}}
    }
    listing = tool(registration, "pets.listPets")
    assert listing.binding["servers"] == [{"url": "https://petstore.example.com/v2"}]
    assert listing.input_schema["properties"]["limit"] == {"type": "integer", "maximum": 50}
    assert listing.binding["parameters"][1] == {
        "name": "tags",
        "in": "query",
        "style": "form",
        "explode": False,
    }
    assert listing.output_schema == {"type": "array", "items": {"$ref": "#/$defs/Pet"}}
    add = tool(registration, "pets.addPet")
    assert add.input_schema["properties"]["body"] == {"$ref": "#/$defs/Pet"}
    assert add.input_schema["required"] == ["body"]
    assert add.output_schema == {"$ref": "#/$defs/Pet"}
    upload = tool(registration, "pets.uploadPhoto")
    assert upload.input_schema["required"] == ["id", "body"]
    assert upload.input_schema["properties"]["body"] == {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "caption": {"type": "string"},
        },
        "required": ["file"],
    }
    assert upload.binding["contentTypes"] == ["multipart/form-data"]


async def test_swagger_without_host_uses_the_spec_url(http_server: LoopbackServer) -> None:
    document = {**SWAGGER, "host": None, "schemes": None}
    http_server.routes["/swagger.json"] = Reply(200, orjson.dumps(document))
    ctx = make_ctx(Path("/nonexistent"))
    request = RegistrationRequest(
        tenant="t", slug="x", config={"source": {"url": f"{http_server.url}/swagger.json"}}
    )
    registration = await plugin.register(request, ctx)
    assert tool(registration, "pets.listPets").binding["servers"] == [
        {"url": f"{http_server.url}/v2"}
    ]
    await ctx.http.aclose()  # type: ignore[attr-defined]


YAML_31 = b"""
openapi: 3.1.0
info:
  title: "Caf\xc3\xa9 API \xe2\x98\x95"
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      parameters:
        - {name: id, in: path, required: true, schema: {type: [string, "null"]}}
      responses:
        200:
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Order'}
components:
  schemas:
    Order:
      type: object
      properties:
        placed: {type: string, examples: [2024-01-01]}
"""


async def test_yaml_openapi_31(tmp_path: Path) -> None:
    registration = await register(tmp_path, YAML_31, name="spec.yaml")
    assert registration.details["openapiVersion"] == "3.1.0"
    assert registration.record.name == "Café API ☕"
    order = tool(registration, "orders.getOrder")
    assert order.output_schema == {"$ref": "#/$defs/Order"}
    assert order.input_schema["properties"]["id"] == {"type": ["string", "null"]}
    # YAML dates and integer keys become JSON text, so the mirror and digests can carry them.
    assert registration.toolset.definitions["Order"]["properties"]["placed"]["examples"] == [
        "2024-01-01"
    ]


async def test_path_items_and_parameters_by_reference(tmp_path: Path) -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Refs"},
        "paths": {"/things/{id}": {"$ref": "#/components/pathItems/Thing"}},
        "components": {
            "pathItems": {
                "Thing": {
                    "parameters": [{"$ref": "#/components/parameters/id"}],
                    "get": {"operationId": "getThing", "tags": ["things"], "responses": {}},
                }
            },
            "parameters": {
                "id": {"$ref": "#/components/parameters/realId"},
                "realId": {
                    "name": "id",
                    "in": "path",
                    "schema": {"type": "string", "format": "uuid"},
                },
            },
        },
    }
    registration = await register(tmp_path, document)
    thing = tool(registration, "things.getThing")
    assert thing.input_schema["properties"] == {"id": {"type": "string", "format": "uuid"}}
    assert thing.input_schema["required"] == ["id"]


async def test_response_reference_cycle_is_a_clear_error(tmp_path: Path) -> None:
    document = openapi(
        {"/x": {"get": {"responses": {"200": {"$ref": "#/components/responses/a"}}}}},
        components={"responses": {"a": {"$ref": "#/components/responses/a"}}},
    )
    with pytest.raises(SpecParseError, match="reference cycle") as caught:
        await register(tmp_path, document)
    assert caught.value.field == "spec.openapi.source.paths[/x].get.responses.200"
