"""Generate a Microsoft-Graph-scale OpenAPI 3.0 document, deterministically (a fixed seed).

The shape follows Graph's published description: entity sets with key and navigation paths,
OData query parameters by `$ref`, inline `$select`/`$orderby` enums, `allOf` schemas with a
discriminator value, `2XX`/`4XX` responses by `$ref`, and one OAuth2 scheme. Default sizes give
over 20,000 operations, 5,000 component schemas and 40 MB of JSON.

    python scripts/gen_graph_spec.py OUT.json [--sets 400] [--navs 8]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import orjson

SEED = 20_240_601
VERSION = "1"
"""Bumped whenever the output changes, so cached copies are regenerated."""
SYLLABLES = (  # noqa: SIM905 - a table that reads better as text
    "ac ad al am an ap ar as at au ba be bi bo bu ca ce ci co cu da de di do du el em en er es "
    "fa fe fi fo fu ga ge gi go gu ha he hi ho hu il im in ir is ja jo ka ke ki ko la le li lo "
    "lu ma me mi mo mu na ne ni no nu ob oc od of om on op or os pa pe pi po pu ra re ri ro ru "
    "sa se si so su ta te ti to tu ul um un ur us va ve vi vo wa we wi wo ya yo za ze zi zo"
).split()
SCALARS = (
    {"type": "string", "nullable": True},
    {"type": "boolean", "nullable": True},
    {"type": "number", "format": "int32", "nullable": True},
    {
        "pattern": r"^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):"
        r"[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$",
        "type": "string",
        "format": "date-time",
        "nullable": True,
    },
)
SCHEMA = "#/components/schemas/microsoft.graph."
ODATA_PARAMS = ("top", "skip", "search", "filter", "count")


class Names:
    """Unique camelCase words built from syllables, in a fixed order."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def word(self, parts: int = 3) -> str:
        while True:
            word = _word(self.rng, parts)
            if word not in self.used:
                self.used.add(word)
                return word


def _word(rng: random.Random, parts: int) -> str:
    pieces = [rng.choice(SYLLABLES) for _ in range(parts)]
    return pieces[0] + "".join(p.capitalize() for p in pieces[1:])


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(SYLLABLES) * rng.randint(1, 3) for _ in range(words)).capitalize()


def _entity_schema(
    rng: random.Random, name: str, entities: list[str], props: list[str]
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for prop in props:
        roll = rng.random()
        if roll < 0.15 and entities:
            target = rng.choice(entities)
            properties[prop] = {
                "type": "array",
                "items": {"$ref": SCHEMA + target},
                "description": _sentence(rng, 8),
                "x-ms-navigationProperty": True,
            }
        elif roll < 0.3 and entities:
            properties[prop] = {
                "anyOf": [
                    {"$ref": SCHEMA + rng.choice(entities)},
                    {"type": "object", "nullable": True},
                ],
                "description": _sentence(rng, 10),
            }
        else:
            properties[prop] = {**rng.choice(SCALARS), "description": _sentence(rng, 12)}
    properties["@odata.type"] = {"type": "string"}
    return {
        "allOf": [
            {"$ref": SCHEMA + "entity"},
            {
                "title": name,
                "required": ["@odata.type"],
                "type": "object",
                "properties": properties,
                "description": _sentence(rng, 20),
            },
        ],
        "x-ms-discriminator-value": f"#microsoft.graph.{name}",
    }


def _collection_schema(name: str) -> dict[str, Any]:
    return {
        "title": f"Collection of {name}",
        "type": "object",
        "allOf": [
            {"$ref": "#/components/schemas/BaseCollectionPaginationCountResponse"},
            {
                "type": "object",
                "properties": {"value": {"type": "array", "items": {"$ref": SCHEMA + name}}},
            },
        ],
    }


def _key(name: str, entity: str) -> dict[str, Any]:
    return {
        "name": f"{name}-id",
        "in": "path",
        "description": f"The unique identifier of {entity}",
        "required": True,
        "schema": {"type": "string"},
        "x-ms-docs-key-type": entity,
    }


def _enum_param(name: str, values: list[str], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "style": "form",
        "explode": False,
        "schema": {
            "uniqueItems": True,
            "type": "array",
            "items": {"enum": values, "type": "string"},
        },
    }


def _responses(success: dict[str, Any]) -> dict[str, Any]:
    return {
        **success,
        "4XX": {"$ref": "#/components/responses/error"},
        "5XX": {"$ref": "#/components/responses/error"},
    }


def _ops_for(
    rng: random.Random,
    prefix: str,
    keys: list[dict[str, Any]],
    tag: str,
    op_base: str,
    entity: str,
    props: list[str],
) -> dict[str, dict[str, Any]]:
    """Collection path (list, create, $count) and item path (get, update, delete)."""
    title = entity[:1].upper() + entity[1:]
    fields = [*props, "id"]
    select = _enum_param("$select", fields, "Select properties to be returned")
    orderby = _enum_param(
        "$orderby", [f"{f} desc" for f in fields] + fields, "Order items by property values"
    )
    odata = [{"$ref": f"#/components/parameters/{p}"} for p in ODATA_PARAMS]
    body = {
        "description": "New property values",
        "content": {"application/json": {"schema": {"$ref": SCHEMA + entity}}},
        "required": True,
    }
    docs = {"description": "Find more info here", "url": f"https://learn.example.com/{op_base}"}
    item_key = _key(entity, entity)
    single = {
        "2XX": {
            "description": "Retrieved entity",
            "content": {"application/json": {"schema": {"$ref": SCHEMA + entity}}},
        }
    }
    collection = {
        "2XX": {"$ref": f"#/components/responses/microsoft.graph.{entity}CollectionResponse"}
    }
    return {
        prefix: {
            "get": {
                "tags": [tag],
                "summary": f"List {entity}",
                "description": _sentence(rng, 30),
                "externalDocs": docs,
                "operationId": f"{op_base}.List{title}",
                "parameters": [*keys, *odata, orderby, select, {**select, "name": "$expand"}],
                "responses": _responses(collection),
                "x-ms-pageable": {"nextLinkName": "@odata.nextLink", "operationName": "listMore"},
                "x-ms-docs-operation-type": "operation",
            },
            "post": {
                "tags": [tag],
                "summary": f"Create {entity}",
                "description": _sentence(rng, 25),
                "operationId": f"{op_base}.Create{title}",
                "parameters": list(keys),
                "requestBody": body,
                "responses": _responses({"2XX": single["2XX"]}),
                "x-ms-docs-operation-type": "operation",
            },
        },
        prefix + "/$count": {
            "get": {
                "tags": [tag],
                "summary": "Get the number of the resource",
                "operationId": f"{op_base}.{title}.GetCount-{rng.randrange(16**4):04x}",
                "parameters": [*keys, {"$ref": "#/components/parameters/search"}],
                "responses": _responses(
                    {"2XX": {"$ref": "#/components/responses/ODataCountResponse"}}
                ),
            },
        },
        prefix + "/{" + entity + "-id}": {
            "get": {
                "tags": [tag],
                "summary": f"Get {entity}",
                "description": _sentence(rng, 30),
                "externalDocs": docs,
                "operationId": f"{op_base}.Get{title}",
                "parameters": [*keys, item_key, select, {**select, "name": "$expand"}],
                "responses": _responses(single),
                "x-ms-docs-operation-type": "operation",
            },
            "patch": {
                "tags": [tag],
                "summary": f"Update {entity}",
                "description": _sentence(rng, 25),
                "operationId": f"{op_base}.Update{title}",
                "parameters": [*keys, item_key],
                "requestBody": body,
                "responses": _responses({"2XX": single["2XX"]}),
                "x-ms-docs-operation-type": "operation",
            },
            "delete": {
                "tags": [tag],
                "summary": f"Delete {entity}",
                "operationId": f"{op_base}.Delete{title}",
                "parameters": [
                    *keys,
                    item_key,
                    {
                        "name": "If-Match",
                        "in": "header",
                        "description": "ETag",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": _responses({"204": {"description": "Success"}}),
                "x-ms-docs-operation-type": "operation",
            },
        },
    }


def generate(sets: int = 400, navs: int = 8, seed: int = SEED) -> dict[str, Any]:
    """The document as plain data."""
    rng = random.Random(seed)  # noqa: S311 - a fixed seed for a deterministic document
    names = Names(rng)
    entity_count = sets * 7
    entities = [names.word() for _ in range(entity_count)]
    schemas: dict[str, Any] = {
        "microsoft.graph.entity": {
            "title": "entity",
            "required": ["@odata.type"],
            "type": "object",
            "properties": {"id": {"type": "string"}, "@odata.type": {"type": "string"}},
            "discriminator": {"propertyName": "@odata.type", "mapping": {}},
        },
        "BaseCollectionPaginationCountResponse": {
            "title": "Base collection pagination and count responses",
            "type": "object",
            "properties": {
                "@odata.count": {"type": "integer", "format": "int64", "nullable": True},
                "@odata.nextLink": {"type": "string", "nullable": True},
            },
        },
        "odata.error": {
            "required": ["error"],
            "type": "object",
            "properties": {"error": {"$ref": "#/components/schemas/odata.error"}},
        },
    }
    entity_props: dict[str, list[str]] = {}
    for index, entity in enumerate(entities):
        props = sorted({_word(rng, 2) for _ in range(rng.randint(6, 14))})
        entity_props[entity] = props
        earlier = entities[max(0, index - 50) : index] or entities[:1]
        schemas[f"microsoft.graph.{entity}"] = _entity_schema(rng, entity, earlier, props)
        schemas[f"microsoft.graph.{entity}CollectionResponse"] = _collection_schema(entity)
    mapping = schemas["microsoft.graph.entity"]["discriminator"]["mapping"]
    for entity in entities:
        mapping[f"#microsoft.graph.{entity}"] = SCHEMA + entity
    paths: dict[str, Any] = {}
    for index in range(sets):
        entity = entities[index]
        set_name = entity + "s"
        paths.update(
            _ops_for(
                rng,
                f"/{set_name}",
                [],
                f"{set_name}.{entity}",
                f"{set_name}.{entity}",
                entity,
                entity_props[entity],
            )
        )
        key = _key(entity, entity)
        for nav_index in range(navs):
            nav = entities[sets + (index * navs + nav_index) % (entity_count - sets)]
            prefix = f"/{set_name}/{{{entity}-id}}/{nav}s"
            paths.update(
                _ops_for(rng, prefix, [key], f"{set_name}.{nav}", set_name, nav, entity_props[nav])
            )
    responses: dict[str, Any] = {
        "error": {
            "description": "error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/odata.error"}}
            },
        },
        "ODataCountResponse": {
            "description": "The count of the resource",
            "content": {"text/plain": {"schema": {"type": "integer", "format": "int32"}}},
        },
    }
    for entity in entities:
        responses[f"microsoft.graph.{entity}CollectionResponse"] = {
            "description": "Retrieved collection",
            "content": {
                "application/json": {"schema": {"$ref": f"{SCHEMA}{entity}CollectionResponse"}}
            },
        }
    parameters = {
        "top": {
            "name": "$top",
            "in": "query",
            "description": "Show only the first n items",
            "style": "form",
            "explode": False,
            "schema": {"minimum": 0, "type": "integer"},
            "example": 50,
        },
        "skip": {
            "name": "$skip",
            "in": "query",
            "description": "Skip the first n items",
            "style": "form",
            "explode": False,
            "schema": {"minimum": 0, "type": "integer"},
        },
        "search": {
            "name": "$search",
            "in": "query",
            "description": "Search items by search phrases",
            "style": "form",
            "explode": False,
            "schema": {"type": "string"},
        },
        "filter": {
            "name": "$filter",
            "in": "query",
            "description": "Filter items by property values",
            "style": "form",
            "explode": False,
            "schema": {"type": "string"},
        },
        "count": {
            "name": "$count",
            "in": "query",
            "description": "Include count of items",
            "style": "form",
            "explode": False,
            "schema": {"type": "boolean"},
        },
    }
    return {
        "openapi": "3.0.4",
        "info": {
            "title": "Graph-scale API (generated)",
            "description": "A generated document shaped like a large directory API.",
            "version": "v1.0",
        },
        "servers": [{"url": "https://graph.example.com/v1.0/", "description": "Core"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "parameters": parameters,
            "securitySchemes": {
                "azureaadv2": {
                    "type": "oauth2",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": "https://login.example.com/common/oauth2/v2.0/authorize",
                            "tokenUrl": "https://login.example.com/common/oauth2/v2.0/token",
                            "scopes": {},
                        }
                    },
                }
            },
        },
        "security": [{"azureaadv2": []}],
    }


def write(path: Path, sets: int = 400, navs: int = 8) -> Path:
    """Write the document as indented JSON (as large public descriptions are published)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(generate(sets, navs), option=orjson.OPT_INDENT_2))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sets", type=int, default=400)
    parser.add_argument("--navs", type=int, default=8)
    args = parser.parse_args()
    write(args.out, args.sets, args.navs)


if __name__ == "__main__":
    main()
