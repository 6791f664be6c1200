"""The SQL connection store: connection rows (credential references, never values), their own
tools, and the stale-connection query. `write_connections` is also called inside the catalog
store's batch transaction, so a file-mode run writes integrations and connections together."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from switchboard.catalog.ports import ConnectionWrite
from switchboard.models.connection import ConnectionKey, ConnectionRecord
from switchboard.storage.database import transaction
from switchboard.storage.tables import ConnectionRow, DefinitionRow, IntegrationRow, ToolRow

INSERT_CHUNK = 2_000
"""Rows per INSERT: within PostgreSQL's bind-parameter cap for these tables."""
DELETE_CHUNK = 500
"""Identities per DELETE ... IN: three parameters each."""


def _ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were written in UTC
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _record(row: ConnectionRow) -> ConnectionRecord:
    return ConnectionRecord(
        tenant=row.tenant,
        owner=row.owner,
        subject=row.subject,
        integration=row.integration,
        name=row.name,
        template=row.template,
        provider=row.provider,
        item_ids={str(k): str(v) for k, v in (row.item_ids or {}).items()},
        description=row.description,
        resource=row.resource,
        ready=row.ready,
        reason=row.reason or "",
        tools_synced_at=row.tools_synced_at,
        synced_revision=row.synced_revision,
        tool_count=row.tool_count,
        tools_digest=row.tools_digest,
        stale=row.stale,
        consecutive_failures=row.consecutive_failures,
        updated_at=_ms(row.updated_at),
    )


def _where_key(table: Any, key: ConnectionKey, column: str) -> Any:
    return and_(
        table.tenant == key.tenant,
        table.owner == key.owner,
        table.subject == key.subject,
        table.integration == key.integration,
        getattr(table, column) == key.name,
    )


def _values(record: ConnectionRecord, now: datetime) -> dict[str, Any]:
    return {
        "template": record.template,
        "provider": record.provider,
        "item_ids": dict(record.item_ids),
        "description": record.description,
        "resource": record.resource,
        "ready": record.ready,
        "reason": record.reason or None,
        "tools_synced_at": record.tools_synced_at,
        "synced_revision": record.synced_revision,
        "tool_count": record.tool_count,
        "tools_digest": record.tools_digest,
        "stale": record.stale,
        "consecutive_failures": record.consecutive_failures,
        "updated_at": now,
    }


def _delete_own_tools(session: Session, keys: Sequence[ConnectionKey]) -> None:
    """One DELETE per integration and chunk, not one per connection."""
    groups: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for key in keys:
        groups.setdefault((key.tenant, key.integration), []).append(
            (key.owner, key.subject, key.name)
        )
    for (tenant, integration), members in groups.items():
        for start in range(0, len(members), DELETE_CHUNK):
            chunk = members[start : start + DELETE_CHUNK]
            for table in (ToolRow, DefinitionRow):
                session.execute(
                    delete(table).where(
                        table.tenant == tenant,
                        table.integration == integration,
                        tuple_(table.owner, table.subject, table.connection).in_(chunk),
                    )
                )


def _own_tool_rows(
    writes: Sequence[ConnectionWrite], plugins: dict[tuple[str, str], str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tools: list[dict[str, Any]] = []
    definitions: list[dict[str, Any]] = []
    for write in writes:
        assert write.toolset is not None
        key = write.record.key
        scope = {
            "tenant": key.tenant,
            "owner": key.owner,
            "subject": key.subject,
            "integration": key.integration,
            "connection": key.name,
            "plugin_id": plugins.get((key.tenant, key.integration), ""),
        }
        tools.extend(
            {
                **scope,
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.input_schema,
                "output_schema": tool.output_schema,
                "annotations": tool.annotations,
                "binding": tool.binding,
            }
            for tool in write.toolset.tools
        )
        definitions.extend(
            {**scope, "name": name, "schema": schema}
            for name, schema in write.toolset.definitions.items()
        )
    return tools, definitions


def write_connections(
    session: Session,
    writes: Sequence[ConnectionWrite],
    removals: Sequence[ConnectionKey],
    now: datetime,
) -> None:
    """Remove, then upsert, inside the caller's transaction. A write whose revision follows the
    batch takes the integration's `config_revised_at` as this transaction left it."""
    _delete_own_tools(session, removals)
    for key in removals:
        session.execute(delete(ConnectionRow).where(_where_key(ConnectionRow, key, "name")))
    if not writes:
        return
    integrations = {(w.record.tenant, w.record.integration) for w in writes}
    revisions: dict[tuple[str, str], tuple[int | None, str]] = {}
    for tenant in {t for t, _ in integrations}:
        slugs = sorted(s for t, s in integrations if t == tenant)
        found_revisions = session.execute(
            select(
                IntegrationRow.slug, IntegrationRow.config_revised_at, IntegrationRow.plugin_id
            ).where(IntegrationRow.tenant == tenant, IntegrationRow.slug.in_(slugs))
        )
        revisions.update({(tenant, slug): (rev, plugin) for slug, rev, plugin in found_revisions})
    existing: dict[ConnectionKey, int] = {}
    for tenant, slug in integrations:
        found = session.execute(
            select(
                ConnectionRow.row_id,
                ConnectionRow.owner,
                ConnectionRow.subject,
                ConnectionRow.name,
            ).where(ConnectionRow.tenant == tenant, ConnectionRow.integration == slug)
        )
        existing.update({ConnectionKey(tenant, o, s, slug, n): row_id for row_id, o, s, n in found})
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for write in writes:
        record = write.record
        values = _values(record, now)
        revision, _ = revisions.get((record.tenant, record.integration), (None, ""))
        if write.revision_from_batch:
            values["synced_revision"] = revision
        row_id = existing.get(record.key)
        if row_id is None:
            inserts.append(
                {
                    "tenant": record.tenant,
                    "owner": record.owner,
                    "subject": record.subject,
                    "integration": record.integration,
                    "name": record.name,
                    "created_at": now,
                    **values,
                }
            )
        else:
            updates.append({"row_id": row_id, **values})
    for start in range(0, len(inserts), INSERT_CHUNK):
        session.execute(insert(ConnectionRow), inserts[start : start + INSERT_CHUNK])
    if updates:
        session.execute(update(ConnectionRow), updates)
    replaced = [w for w in writes if w.toolset is not None]
    _delete_own_tools(session, [w.record.key for w in replaced])
    plugins = {key: plugin for key, (_, plugin) in revisions.items()}
    tools, definitions = _own_tool_rows(replaced, plugins)
    for table, rows in ((ToolRow, tools), (DefinitionRow, definitions)):
        for start in range(0, len(rows), INSERT_CHUNK):
            session.execute(insert(table), rows[start : start + INSERT_CHUNK])


class SqlConnectionStore:
    """`ConnectionStore` on SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> AbstractContextManager[Session]:
        return transaction(self.engine)

    def get_connection(self, key: ConnectionKey) -> ConnectionRecord | None:
        with self._session() as session:
            row = session.scalars(
                select(ConnectionRow).where(_where_key(ConnectionRow, key, "name"))
            ).first()
            return _record(row) if row else None

    def list_connections(
        self, tenant: str | None = None, integration: str | None = None
    ) -> list[ConnectionRecord]:
        with self._session() as session:
            query = select(ConnectionRow).order_by(
                ConnectionRow.tenant,
                ConnectionRow.integration,
                ConnectionRow.owner,
                ConnectionRow.name,
                ConnectionRow.subject,
            )
            if tenant is not None:
                query = query.where(ConnectionRow.tenant == tenant)
            if integration is not None:
                query = query.where(ConnectionRow.integration == integration)
            return [_record(row) for row in session.scalars(query)]

    def stale_connections(self, tenant: str | None = None) -> list[ConnectionRecord]:
        revised = IntegrationRow.config_revised_at
        query = (
            select(ConnectionRow)
            .join(
                IntegrationRow,
                and_(
                    IntegrationRow.tenant == ConnectionRow.tenant,
                    IntegrationRow.slug == ConnectionRow.integration,
                ),
            )
            .where(
                ConnectionRow.ready.is_(True),
                or_(
                    ConnectionRow.stale.is_(True),
                    ConnectionRow.tools_synced_at.is_(None),
                    and_(
                        revised.is_not(None),
                        or_(
                            ConnectionRow.synced_revision.is_(None),
                            ConnectionRow.synced_revision != revised,
                        ),
                    ),
                ),
            )
            .order_by(ConnectionRow.row_id)
        )
        if tenant is not None:
            query = query.where(ConnectionRow.tenant == tenant)
        with self._session() as session:
            return [_record(row) for row in session.scalars(query)]

    def apply_connections(
        self, writes: Sequence[ConnectionWrite], removals: Sequence[ConnectionKey] = ()
    ) -> None:
        if not writes and not removals:
            return
        with self._session() as session:
            write_connections(session, writes, removals, datetime.now(UTC))
