"""What reaches the database: `$defs` stored once per integration in the `definition` table
(not copied into every tool), tools referring to them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import Engine, text

from plugins.openapi.helpers import make_ctx, openapi
from switchboard.catalog.ports import WriteBatch
from switchboard.models.integration import Integration
from switchboard.plugins.openapi import plugin
from switchboard.plugins.registry import PluginRegistry
from switchboard.reconcile.integrations import reconcile_integration
from switchboard.storage.repository import SqlCatalogStore

SCHEMAS = {
    "Pet": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/Owner"}}},
    "Owner": {
        "type": "object",
        "properties": {"pets": {"items": {"$ref": "#/components/schemas/Pet"}}},
    },
}
REPLY = {
    "200": {
        "description": "",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
    }
}
PATHS = {f"/pets{i}": {"get": {"operationId": f"getPet{i}", "responses": REPLY}} for i in range(50)}


async def test_definitions_are_stored_once_per_integration(tmp_path: Path, engine: Engine) -> None:
    (tmp_path / "spec.json").write_bytes(
        orjson.dumps(openapi(PATHS, components={"schemas": SCHEMAS}))
    )
    resource = Integration.model_validate(
        {
            "metadata": {"name": "pets", "namespace": "acme"},
            "spec": {"kind": "openapi", "openapi": {"source": {"file": "spec.json"}}},
        }
    )
    store = SqlCatalogStore(engine)
    ctx = make_ctx(tmp_path)
    outcome = await reconcile_integration(
        resource,
        store=store,
        registry=PluginRegistry([plugin]),
        ctx=ctx,
        now=datetime.now(UTC),
        manifest_hash="h",
    )
    assert outcome.write is not None
    store.apply(WriteBatch(integrations=[outcome.write]))
    with engine.connect() as connection:
        definitions = connection.execute(
            text("SELECT name, schema, connection FROM definition WHERE integration = 'pets'")
        ).all()
        tools = connection.execute(
            text("SELECT name, output_schema FROM tool WHERE integration = 'pets' ORDER BY name")
        ).all()
    assert sorted(row[0] for row in definitions) == ["Owner", "Pet"]
    assert all(row[2] == "" for row in definitions)  # integration scope, shared by connections
    pet = next(row[1] for row in definitions if row[0] == "Pet")
    assert (orjson.loads(pet) if isinstance(pet, str) else pet) == {
        "type": "object",
        "properties": {"owner": {"$ref": "#/$defs/Owner"}},
    }
    assert len(tools) == 50
    for _, output in tools:
        assert (orjson.loads(output) if isinstance(output, str) else output) == {
            "$ref": "#/$defs/Pet"
        }
    stored = store.tools(tenant="acme", integration="pets")
    assert stored[0].tool.output_schema == {"$ref": "#/$defs/Pet"}
    assert stored[0].tool.annotations == {}
    await ctx.http.aclose()  # type: ignore[attr-defined]
