"""The connection store on SQLite and a real PostgreSQL: migration 0002 over existing rows, writes in
the catalog batch's transaction, removals scoped to one identity, and the stale query."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, select, text, update

from switchboard.catalog.ports import ConnectionWrite, IntegrationWrite, WriteBatch
from switchboard.errors import StorageError
from switchboard.models.connection import ConnectionKey, ConnectionRecord
from switchboard.models.records import IntegrationRecord, ToolDefinition, ToolSet
from switchboard.storage.connections import SqlConnectionStore
from switchboard.storage.database import MIGRATIONS, make_engine
from switchboard.storage.repository import SqlCatalogStore
from switchboard.storage.tables import ConnectionRow, DefinitionRow, IntegrationRow, ToolRow


def integration(slug: str = "crm", tenant: str = "acme") -> IntegrationRecord:
    return IntegrationRecord(tenant=tenant, slug=slug, kind="openapi", name=slug)


def record(name: str, **extra: object) -> ConnectionRecord:
    values: dict[str, object] = {
        "tenant": "acme",
        "owner": "org",
        "integration": "crm",
        "name": name,
        "template": "apikey-0",
        "provider": "env",
        "item_ids": {"token": "CRM_TOKEN"},
        "tools_synced_at": 1,
    }
    values.update(extra)
    return ConnectionRecord.model_validate(values)


def own(*names: str) -> ToolSet:
    return ToolSet(
        tools=[ToolDefinition(name=n) for n in names], definitions={"Note": {"type": "object"}}
    )


def count(engine: Engine, table: type[ToolRow] | type[DefinitionRow] | type[ConnectionRow]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def test_migration_0002_fills_rows_written_before_it(db_url: str) -> None:
    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            text(
                "INSERT INTO connection (tenant, owner, subject, integration, name, template, "
                "provider, item_ids, consecutive_failures, created_at, updated_at) VALUES "
                "('acme', 'org', '', 'crm', 'old', 'none', 'none', '{}', 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    row = SqlConnectionStore(engine).get_connection(ConnectionKey("acme", "org", "", "crm", "old"))
    assert row is not None
    assert (row.ready, row.stale, row.tool_count, row.synced_revision) == (True, False, 0, None)
    engine.dispose()


def test_connection_writes_share_the_batch_and_follow_its_revision(engine: Engine) -> None:
    catalog, connections = SqlCatalogStore(engine), SqlConnectionStore(engine)
    batch = WriteBatch(
        integrations=[IntegrationWrite(integration(), ToolSet(tools=[ToolDefinition(name="a")]))],
        connections=[
            ConnectionWrite(record("main"), own("x", "y"), revision_from_batch=True),
            ConnectionWrite(record("side", synced_revision=5)),
        ],
    )
    catalog.apply(batch)
    revised = catalog.get("acme", "crm").config_revised_at  # type: ignore[union-attr]
    main = connections.get_connection(ConnectionKey("acme", "org", "", "crm", "main"))
    side = connections.get_connection(ConnectionKey("acme", "org", "", "crm", "side"))
    assert main is not None and main.synced_revision == revised is not None
    assert side is not None and side.synced_revision == 5
    assert count(engine, ToolRow) == 3 and count(engine, DefinitionRow) == 1
    assert [t.connection for t in catalog.tools("acme", "crm")].count("main") == 2
    # Idempotent: the same batch again leaves one row per identity.
    catalog.apply(batch)
    assert count(engine, ConnectionRow) == 2 and count(engine, ToolRow) == 3


def test_a_failing_batch_writes_no_connection(engine: Engine) -> None:
    catalog = SqlCatalogStore(engine)
    catalog.apply(WriteBatch(connections=[ConnectionWrite(record("good"))]))
    twins = WriteBatch(
        integrations=[IntegrationWrite(integration("other"), None)],
        connections=[ConnectionWrite(record("twin")), ConnectionWrite(record("twin"))],
    )
    with pytest.raises(StorageError):  # the unique key refuses the second insert
        catalog.apply(twins)
    assert catalog.get("acme", "other") is None  # all of the batch rolled back
    assert count(engine, ConnectionRow) == 1


def test_removal_takes_one_identity_and_only_its_tools(engine: Engine) -> None:
    catalog, connections = SqlCatalogStore(engine), SqlConnectionStore(engine)
    alice = record("main", owner="user", subject="alice")
    bob = record("main", owner="user", subject="bob")
    catalog.apply(
        WriteBatch(
            integrations=[IntegrationWrite(integration(), own("shared"))],
            connections=[ConnectionWrite(alice, own("a")), ConnectionWrite(bob, own("b"))],
        )
    )
    connections.apply_connections([], [alice.key])
    assert [r.subject for r in connections.list_connections()] == ["bob"]
    assert sorted(
        (t.subject, t.tool.name) for t in catalog.tools("acme", "crm") if t.connection
    ) == [("bob", "b")]
    assert catalog.tool_names("acme", "crm") == ["shared"]


def test_stale_query(engine: Engine) -> None:
    catalog, connections = SqlCatalogStore(engine), SqlConnectionStore(engine)
    catalog.apply(
        WriteBatch(
            integrations=[
                IntegrationWrite(integration(), own("t")),
                IntegrationWrite(integration(tenant="beta"), own("t")),
            ]
        )
    )
    revised = catalog.get("acme", "crm").config_revised_at  # type: ignore[union-attr]
    connections.apply_connections(
        [
            ConnectionWrite(record("current", synced_revision=revised)),
            ConnectionWrite(record("behind", synced_revision=(revised or 0) - 1)),
            ConnectionWrite(record("never", tools_synced_at=None)),
            ConnectionWrite(record("failed", synced_revision=revised, stale=True)),
            ConnectionWrite(record("broken", synced_revision=None, ready=False)),
            ConnectionWrite(record("elsewhere", tenant="beta", synced_revision=None)),
        ]
    )
    assert sorted(r.name for r in connections.stale_connections("acme")) == [
        "behind",
        "failed",
        "never",
    ]
    assert len(connections.stale_connections()) == 4
    with engine.begin() as conn:  # the integration's tools change again
        conn.execute(
            update(IntegrationRow)
            .where(IntegrationRow.tenant == "acme")
            .values(config_revised_at=(revised or 0) + 1000)
        )
    assert "current" in {r.name for r in connections.stale_connections("acme")}
