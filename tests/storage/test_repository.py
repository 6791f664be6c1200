"""The SQL mirror on SQLite and on a real PostgreSQL: upserts, cascades, atomic batches, migrations."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, insert, select

from switchboard.catalog.ports import FileState, IntegrationWrite, WriteBatch
from switchboard.errors import StorageError
from switchboard.models.records import IntegrationRecord, ToolDefinition, ToolSet
from switchboard.storage.database import migrate
from switchboard.storage.repository import SqlCatalogStore
from switchboard.storage.tables import Base, ConnectionRow, DefinitionRow, IntegrationRow, ToolRow


def record(slug: str, tenant: str = "acme", **extra: object) -> IntegrationRecord:
    return IntegrationRecord(tenant=tenant, slug=slug, kind="openapi", name=slug.title(), **extra)  # type: ignore[arg-type]


def toolset(*names: str) -> ToolSet:
    return ToolSet(
        tools=[ToolDefinition(name=n, description=f"does {n}") for n in names],
        definitions={"Pet": {"type": "object"}},
    )


def count(engine: Engine, table: type[Base]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    migrate(engine)  # idempotent: a second run is a no-op


def test_upsert_is_idempotent(engine: Engine) -> None:
    store = SqlCatalogStore(engine)
    batch = WriteBatch(integrations=[IntegrationWrite(record("petstore"), toolset("a", "b"))])
    store.apply(batch)
    store.apply(batch)
    assert count(engine, IntegrationRow) == 1
    assert store.tool_names("acme", "petstore") == ["a", "b"]
    stored = store.get("acme", "petstore")
    assert stored is not None and stored.config_revised_at is not None


def test_keeping_tools_does_not_bump_config_revised_at(engine: Engine) -> None:
    store = SqlCatalogStore(engine)
    store.apply(WriteBatch(integrations=[IntegrationWrite(record("petstore"), toolset("a"))]))
    revised = store.get("acme", "petstore").config_revised_at  # type: ignore[union-attr]
    updated = record("petstore", description="new words", config_revised_at=revised)
    store.apply(WriteBatch(integrations=[IntegrationWrite(updated, None)]))
    after = store.get("acme", "petstore")
    assert after is not None and after.description == "new words"
    assert after.config_revised_at == revised
    assert store.tool_names("acme", "petstore") == ["a"]


def test_tenants_are_separate(engine: Engine) -> None:
    store = SqlCatalogStore(engine)
    store.apply(
        WriteBatch(
            integrations=[
                IntegrationWrite(record("petstore", "acme"), toolset("a")),
                IntegrationWrite(record("petstore", "globex"), toolset("b", "c")),
            ]
        )
    )
    assert [r.tenant for r in store.list_integrations()] == ["acme", "globex"]
    assert store.tool_names("globex", "petstore") == ["b", "c"]
    store.apply(WriteBatch(removals=[("acme", "petstore")]))
    assert [r.tenant for r in store.list_integrations()] == ["globex"]


def test_removal_cascades_to_connections_tools_and_definitions(engine: Engine) -> None:
    store = SqlCatalogStore(engine)
    store.apply(WriteBatch(integrations=[IntegrationWrite(record("petstore"), toolset("a", "b"))]))
    with engine.begin() as conn:
        conn.execute(
            insert(ConnectionRow).values(
                tenant="acme",
                owner="org",
                subject="",
                integration="petstore",
                name="main",
                template="apikey-0",
                provider="env",
                item_ids={},
                consecutive_failures=0,
                created_at=func.now(),
                updated_at=func.now(),
            )
        )
    store.apply(WriteBatch(removals=[("acme", "petstore")]))
    for table in (IntegrationRow, ToolRow, DefinitionRow, ConnectionRow):
        assert count(engine, table) == 0, table.__tablename__


def test_a_failed_batch_writes_nothing(engine: Engine) -> None:
    store = SqlCatalogStore(engine)
    store.apply(WriteBatch(integrations=[IntegrationWrite(record("petstore"), toolset("a"))]))
    # Two tools with the same name violate the unique key half-way through the batch.
    broken = ToolSet(tools=[ToolDefinition(name="x"), ToolDefinition(name="x")])
    batch = WriteBatch(
        integrations=[
            IntegrationWrite(record("weather"), toolset("w")),
            IntegrationWrite(record("petstore"), broken),
        ],
        removals=[],
    )
    with pytest.raises(StorageError) as caught:
        store.apply(batch)
    assert "IntegrityError" in str(caught.value)
    assert [r.slug for r in store.list_integrations()] == ["petstore"]
    assert store.tool_names("acme", "petstore") == ["a"]


def test_file_states_round_trip(engine: Engine) -> None:
    store = SqlCatalogStore(engine)
    state = FileState(root="/repo", path="a.yaml", digest="d1", state={"resources": []})
    store.apply(WriteBatch(files=[state]))
    store.apply(WriteBatch(files=[FileState("/repo", "a.yaml", "d2", {"resources": [1]})]))
    assert store.file_states("/repo")["a.yaml"].digest == "d2"
    store.apply(WriteBatch(file_removals=[("/repo", "a.yaml")]))
    assert store.file_states("/repo") == {}


def test_update_text_changes_only_name_and_description(engine: Engine) -> None:
    store = SqlCatalogStore(engine)
    store.apply(WriteBatch(integrations=[IntegrationWrite(record("petstore", config={"k": 1}))]))
    updated = store.update_text("acme", "petstore", name="Pets", description=None)
    assert updated is not None and updated.name == "Pets" and updated.config == {"k": 1}
    assert store.update_text("acme", "nothing", name="x", description=None) is None


def test_head_revision_read_from_files_matches_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from switchboard.storage.database import MIGRATIONS, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
