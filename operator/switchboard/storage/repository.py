"""The SQL catalog store: idempotent upserts, cascading removal, one transaction per batch."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from switchboard.catalog.ports import FileState, IntegrationWrite, WriteBatch
from switchboard.models.records import IntegrationRecord, StoredTool, ToolDefinition
from switchboard.storage.bulk import insert_rows
from switchboard.storage.connections import write_connections
from switchboard.storage.database import transaction
from switchboard.storage.tables import (
    ConnectionRow,
    DefinitionRow,
    IntegrationRow,
    SourceFileRow,
    ToolRow,
)

INSERT_CHUNK = 2_000
"""Rows per INSERT: large enough to be fast, small enough for PostgreSQL's parameter cap."""


def _record(row: IntegrationRow) -> IntegrationRecord:
    return IntegrationRecord(
        tenant=row.tenant,
        slug=row.slug,
        kind=row.plugin_id,
        name=row.name or row.description or row.slug,
        description=row.description or "",
        config=row.config or {},
        can_remove=row.can_remove,
        can_refresh=row.can_refresh,
        spec_hash=row.spec_hash,
        config_revised_at=row.config_revised_at,
        resource=row.resource,
        manifest_hash=row.manifest_hash,
    )


class SqlCatalogStore:
    """`CatalogStore` on SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> AbstractContextManager[Session]:
        return transaction(self.engine)

    def get(self, tenant: str, slug: str) -> IntegrationRecord | None:
        with self._session() as session:
            row = session.scalars(
                select(IntegrationRow).where(
                    IntegrationRow.tenant == tenant, IntegrationRow.slug == slug
                )
            ).first()
            return _record(row) if row else None

    def list_integrations(self, tenant: str | None = None) -> list[IntegrationRecord]:
        with self._session() as session:
            query = select(IntegrationRow).order_by(IntegrationRow.tenant, IntegrationRow.slug)
            if tenant is not None:
                query = query.where(IntegrationRow.tenant == tenant)
            return [_record(row) for row in session.scalars(query)]

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], IntegrationRecord]:
        by_tenant: dict[str, list[str]] = {}
        for tenant, slug in keys:
            by_tenant.setdefault(tenant, []).append(slug)
        found: dict[tuple[str, str], IntegrationRecord] = {}
        with self._session() as session:
            for tenant, slugs in by_tenant.items():
                for start in range(0, len(slugs), INSERT_CHUNK):
                    rows = session.scalars(
                        select(IntegrationRow).where(
                            IntegrationRow.tenant == tenant,
                            IntegrationRow.slug.in_(slugs[start : start + INSERT_CHUNK]),
                        )
                    )
                    found.update({(row.tenant, row.slug): _record(row) for row in rows})
        return found

    def tool_names(self, tenant: str, slug: str) -> list[str]:
        with self._session() as session:
            return sorted(
                session.scalars(
                    select(ToolRow.name).where(
                        ToolRow.tenant == tenant,
                        ToolRow.integration == slug,
                        ToolRow.connection == "",
                    )
                )
            )

    def tools(self, tenant: str | None = None, integration: str | None = None) -> list[StoredTool]:
        with self._session() as session:
            query = select(ToolRow).order_by(ToolRow.tenant, ToolRow.integration, ToolRow.name)
            if tenant is not None:
                query = query.where(ToolRow.tenant == tenant)
            if integration is not None:
                query = query.where(ToolRow.integration == integration)
            return [
                StoredTool(
                    tenant=row.tenant,
                    integration=row.integration,
                    owner=row.owner,
                    subject=row.subject,
                    connection=row.connection,
                    tool=ToolDefinition(
                        name=row.name,
                        description=row.description or "",
                        input_schema=row.input_schema,
                        output_schema=row.output_schema,
                        annotations=row.annotations or {},
                        binding=row.binding or {},
                    ),
                )
                for row in session.scalars(query)
            ]

    def update_text(
        self, tenant: str, slug: str, *, name: str | None, description: str | None
    ) -> IntegrationRecord | None:
        with self._session() as session:
            row = session.scalars(
                select(IntegrationRow).where(
                    IntegrationRow.tenant == tenant, IntegrationRow.slug == slug
                )
            ).first()
            if row is None:
                return None
            if name is not None:
                row.name = name
            if description is not None:
                row.description = description
            row.updated_at = datetime.now(UTC)
            return _record(row)

    def file_states(self, root: str) -> dict[str, FileState]:
        with self._session() as session:
            rows = session.scalars(select(SourceFileRow).where(SourceFileRow.root == root))
            return {
                row.path: FileState(
                    root=row.root, path=row.path, digest=row.digest, state=row.state
                )
                for row in rows
            }

    def apply(self, batch: WriteBatch) -> None:
        if not batch:
            return
        now = datetime.now(UTC)
        with self._session() as session:
            for tenant, slug in batch.removals:
                self._remove(session, tenant, slug)
            self._upsert_integrations(session, batch.integrations, now)
            write_connections(session, batch.connections, batch.connection_removals, now)
            for root, path in batch.file_removals:
                session.execute(
                    delete(SourceFileRow).where(
                        SourceFileRow.root == root, SourceFileRow.path == path
                    )
                )
            self._upsert_files(session, batch.files)

    def _remove(self, session: Session, tenant: str, slug: str) -> None:
        for table in (ToolRow, DefinitionRow, ConnectionRow):
            session.execute(delete(table).where(table.tenant == tenant, table.integration == slug))
        session.execute(
            delete(IntegrationRow).where(
                IntegrationRow.tenant == tenant, IntegrationRow.slug == slug
            )
        )

    def _upsert_integrations(
        self, session: Session, writes: list[IntegrationWrite], now: datetime
    ) -> None:
        """Set-based: one lookup per tenant, then bulk inserts, updates and tool replacements."""
        if not writes:
            return
        existing: dict[tuple[str, str], int] = {}
        for tenant in {w.record.tenant for w in writes}:
            slugs = [w.record.slug for w in writes if w.record.tenant == tenant]
            for start in range(0, len(slugs), INSERT_CHUNK):
                rows = session.execute(
                    select(IntegrationRow.row_id, IntegrationRow.slug).where(
                        IntegrationRow.tenant == tenant,
                        IntegrationRow.slug.in_(slugs[start : start + INSERT_CHUNK]),
                    )
                )
                existing.update({(tenant, slug): row_id for row_id, slug in rows})
        revised = int(now.timestamp() * 1000)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for write in writes:
            record = write.record
            values: dict[str, Any] = {
                "plugin_id": record.kind,
                "name": record.name,
                "description": record.description,
                "config": record.config,
                "can_remove": record.can_remove,
                "can_refresh": record.can_refresh,
                "spec_hash": record.spec_hash,
                "resource": record.resource,
                "manifest_hash": record.manifest_hash,
                "updated_at": now,
                # Tools changed: connections built before now are stale.
                "config_revised_at": revised
                if write.toolset is not None
                else record.config_revised_at,
            }
            row_id = existing.get((record.tenant, record.slug))
            if row_id is None:
                inserts.append(
                    {"tenant": record.tenant, "slug": record.slug, "created_at": now, **values}
                )
            else:
                updates.append({"row_id": row_id, **values})
        for start in range(0, len(inserts), INSERT_CHUNK):
            session.execute(insert(IntegrationRow), inserts[start : start + INSERT_CHUNK])
        if updates:
            session.execute(update(IntegrationRow), updates)
        self._replace_tools(session, [w for w in writes if w.toolset is not None])

    def _replace_tools(self, session: Session, writes: list[IntegrationWrite]) -> None:
        """Integration-scope tools and definitions (shared by every connection) replaced."""
        if not writes:
            return
        by_tenant: dict[str, list[str]] = {}
        for write in writes:
            by_tenant.setdefault(write.record.tenant, []).append(write.record.slug)
        for table in (ToolRow, DefinitionRow):
            for tenant, slugs in by_tenant.items():
                for start in range(0, len(slugs), INSERT_CHUNK):
                    session.execute(
                        delete(table).where(
                            table.tenant == tenant,
                            table.integration.in_(slugs[start : start + INSERT_CHUNK]),
                            table.connection == "",
                        )
                    )
        base = {"owner": "", "subject": "", "connection": ""}
        tool_rows = (
            {
                **base,
                "tenant": write.record.tenant,
                "integration": write.record.slug,
                "plugin_id": write.record.kind,
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.input_schema,
                "output_schema": tool.output_schema,
                "annotations": tool.annotations,
                "binding": tool.binding,
            }
            for write in writes
            for tool in (write.toolset.tools if write.toolset else [])
        )
        definition_rows = (
            {
                **base,
                "tenant": write.record.tenant,
                "integration": write.record.slug,
                "plugin_id": write.record.kind,
                "name": name,
                "schema": schema,
            }
            for write in writes
            for name, schema in (write.toolset.definitions if write.toolset else {}).items()
        )
        keys = ("tenant", "owner", "subject", "connection", "integration", "plugin_id", "name")
        insert_rows(
            session,
            ToolRow.__table__,  # type: ignore[arg-type]
            (*keys, "description", "input_schema", "output_schema", "annotations", "binding"),
            ("input_schema", "output_schema", "annotations", "binding"),
            tool_rows,
        )
        insert_rows(
            session,
            DefinitionRow.__table__,  # type: ignore[arg-type]
            (*keys, "schema"),
            ("schema",),
            definition_rows,
        )

    def _upsert_files(self, session: Session, files: list[FileState]) -> None:
        if not files:
            return
        roots = {f.root for f in files}
        existing = {
            (row.root, row.path): row
            for row in session.scalars(select(SourceFileRow).where(SourceFileRow.root.in_(roots)))
        }
        fresh = []
        for state in files:
            row = existing.get((state.root, state.path))
            if row is None:
                fresh.append(
                    {
                        "root": state.root,
                        "path": state.path,
                        "digest": state.digest,
                        "state": state.state,
                    }
                )
            else:
                row.digest = state.digest
                row.state = state.state
        for start in range(0, len(fresh), INSERT_CHUNK):
            session.execute(insert(SourceFileRow), fresh[start : start + INSERT_CHUNK])
