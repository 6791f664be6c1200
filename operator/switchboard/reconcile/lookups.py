"""Per-run views of the stores for connections: the catalog as a file run's batch will leave it,
and read-through caches, so N connections of one integration cost one query instead of N."""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.catalog.ports import (
    CatalogStore,
    ConnectionStore,
    ConnectionWrite,
    IntegrationLookup,
    WriteBatch,
)
from switchboard.models.connection import ConnectionKey, ConnectionRecord
from switchboard.models.records import IntegrationRecord


class CachedIntegrations:
    """`IntegrationLookup` that reads each integration and its tool names once per run."""

    def __init__(self, inner: IntegrationLookup) -> None:
        self.inner = inner
        self._records: dict[tuple[str, str], IntegrationRecord | None] = {}
        self._names: dict[tuple[str, str], list[str]] = {}

    def get(self, tenant: str, slug: str) -> IntegrationRecord | None:
        key = (tenant, slug)
        if key not in self._records:
            self._records[key] = self.inner.get(tenant, slug)
        return self._records[key]

    def tool_names(self, tenant: str, slug: str) -> list[str]:
        key = (tenant, slug)
        if key not in self._names:
            self._names[key] = self.inner.tool_names(tenant, slug)
        return self._names[key]


class PendingIntegrations(CachedIntegrations):
    """The store as this run's batch will leave it: pending writes and removals first."""

    def __init__(self, store: CatalogStore, batch: WriteBatch) -> None:
        super().__init__(store)
        self.removed = set(batch.removals)
        self.writes = {(w.record.tenant, w.record.slug): w for w in batch.integrations}

    def touched(self, tenant: str, slug: str) -> bool:
        return (tenant, slug) in self.removed or (tenant, slug) in self.writes

    def pending(self, tenant: str, slug: str) -> bool:
        """Its tools are rewritten by the batch (a new `config_revised_at` is coming)."""
        write = self.writes.get((tenant, slug))
        return write is not None and write.toolset is not None

    def get(self, tenant: str, slug: str) -> IntegrationRecord | None:
        key = (tenant, slug)
        if key in self.writes:
            return self.writes[key].record
        if key in self.removed:
            return None
        return super().get(tenant, slug)

    def tool_names(self, tenant: str, slug: str) -> list[str]:
        write = self.writes.get((tenant, slug))
        if write is not None and write.toolset is not None:
            return sorted(t.name for t in write.toolset.tools)
        return super().tool_names(tenant, slug)


class PrefetchedConnections:
    """`ConnectionStore` whose `get_connection` is served from one read of each integration's
    rows (taken on first use); writes and other reads go to the store."""

    def __init__(self, inner: ConnectionStore) -> None:
        self.inner = inner
        self._rows: dict[tuple[str, str], dict[ConnectionKey, ConnectionRecord]] = {}

    def get_connection(self, key: ConnectionKey) -> ConnectionRecord | None:
        scope = (key.tenant, key.integration)
        if scope not in self._rows:
            rows = self.inner.list_connections(key.tenant, key.integration)
            self._rows[scope] = {row.key: row for row in rows}
        return self._rows[scope].get(key)

    def list_connections(
        self, tenant: str | None = None, integration: str | None = None
    ) -> list[ConnectionRecord]:
        return self.inner.list_connections(tenant, integration)

    def stale_connections(self, tenant: str | None = None) -> list[ConnectionRecord]:
        return self.inner.stale_connections(tenant)

    def apply_connections(
        self, writes: Sequence[ConnectionWrite], removals: Sequence[ConnectionKey] = ()
    ) -> None:
        self.inner.apply_connections(writes, removals)
        self._rows.clear()
