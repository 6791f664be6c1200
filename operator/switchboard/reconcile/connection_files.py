"""File mode for `Connection` documents: reconciled after the run's integrations are planned,
against the catalog as this run leaves it (its pending writes and removals), so a pruned or changed
integration reaches its connections in the same run. Connections in unchanged files are re-read
only when something they depend on moved: their integration, their row, or a not-Ready status."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from switchboard.catalog.connections import connection_key
from switchboard.catalog.ports import (
    CatalogStore,
    ConnectionStore,
    CredentialProviders,
    FileState,
    WriteBatch,
)
from switchboard.errors import InvalidSpecError, SwitchboardError
from switchboard.models.conditions import Condition, set_condition, with_reconciling
from switchboard.models.connection import Connection, ConnectionKey, ConnectionStatus
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.registry import PluginRegistry
from switchboard.reconcile.connections import (
    ConnectionOutcome,
    ConnectionStores,
    reconcile_connection,
)
from switchboard.reconcile.lookups import PendingIntegrations, PrefetchedConnections
from switchboard.reconcile.ports import ManifestFile, ManifestStore
from switchboard.reconcile.rebuilding import RebuildReport, rebuild_stale

KIND = "Connection"


@dataclass
class ConnectionDocument:
    """A Connection document of a file read in this run."""

    path: str
    chunk: int
    data: dict[str, Any]


@dataclass
class PlannedResource:
    """One report line (the fields of the file run's `ResourceReport`)."""

    kind: str
    namespace: str
    name: str
    file: str
    action: str
    ready: bool
    slug: str | None = None
    reason: str = ""
    message: str = ""


@dataclass
class ConnectionPlan:
    """What the file run adds for connections: statuses to splice, state entries per file,
    unchanged files read again (with the entries they keep), and report lines."""

    statuses: dict[tuple[str, int], tuple[dict[str, Any], Any]] = field(default_factory=dict)
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reread: list[ManifestFile] = field(default_factory=list)
    kept_entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reports: list[PlannedResource] = field(default_factory=list)


def _identity(data: dict[str, Any]) -> tuple[str, str]:
    raw = data.get("metadata")
    meta: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return str(meta.get("namespace") or "default"), str(meta.get("name") or "")


def _invalid_status(data: dict[str, Any], error: SwitchboardError, now: datetime) -> dict[str, Any]:
    raw = data.get("status")
    try:
        previous = (
            ConnectionStatus.model_validate(raw) if isinstance(raw, dict) else ConnectionStatus()
        )
    except ValidationError:
        previous = ConnectionStatus()
    conditions = previous.conditions
    for type_ in ("Ready", "Stalled"):
        conditions = set_condition(
            conditions,
            Condition(
                type=type_,
                status="False" if type_ == "Ready" else "True",
                reason=error.reason,
                message=str(error),
            ),
            now=now,
        )
    conditions = with_reconciling(conditions, now=now)
    return previous.model_copy(update={"conditions": conditions}).dump()


def _entry_key(entry: dict[str, Any]) -> ConnectionKey | None:
    key = entry.get("key")
    return ConnectionKey(*key) if isinstance(key, list) and len(key) == 5 else None


class ConnectionFiles:
    """The Connection part of one file-mode run."""

    def __init__(
        self,
        *,
        manifests: ManifestStore,
        store: CatalogStore,
        connections: ConnectionStore,
        registry: PluginRegistry,
        ctx: PluginContext,
        credentials: CredentialProviders,
        now: datetime,
        concurrency: int = 8,
        jitter: float = 0.25,
    ) -> None:
        self.manifests = manifests
        self.store = store
        self.connections = connections
        self._rows = PrefetchedConnections(connections)
        self.registry = registry
        self.ctx = ctx
        self.credentials = credentials
        self.now = now
        self.concurrency = concurrency
        self.jitter = jitter

    def _recheck(self, entry: dict[str, Any], lookup: PendingIntegrations) -> bool:
        """Whether a connection of an unchanged file must be reconciled again."""
        key = _entry_key(entry)
        if key is None or not entry.get("ready") or lookup.touched(key.tenant, key.integration):
            return True
        row = self._rows.get_connection(key)
        integration = lookup.get(key.tenant, key.integration)
        return (
            row is None
            or integration is None
            or not row.ready
            or row.stale
            or row.tools_synced_at != entry.get("syncedAt")
            or row.synced_revision != integration.config_revised_at
        )

    def _reread(
        self, remembered: list[dict[str, Any]], lookup: PendingIntegrations, plan: ConnectionPlan
    ) -> list[ConnectionDocument]:
        paths = sorted(
            {e["file"] for e in remembered if not e.get("kept") and self._recheck(e, lookup)}
        )
        documents = []
        for path in paths:
            file = self.manifests.read(path)
            try:
                loaded = self.manifests.load(file)
            except SwitchboardError:
                continue  # it parsed when it was last written; leave it for the next run
            plan.reread.append(file)
            for document in loaded:
                data = document.data
                if isinstance(data, dict) and data.get("kind") == KIND:
                    documents.append(ConnectionDocument(path, document.index, data))
        return documents

    async def plan(
        self,
        *,
        documents: list[ConnectionDocument],
        remembered: list[dict[str, Any]],
        other_entries: list[dict[str, Any]],
        batch: WriteBatch,
        states: dict[str, FileState],
        in_scope: Callable[[str], bool],
        prune: bool,
    ) -> ConnectionPlan:
        """Reconcile the run's Connection documents; add their writes to `batch`.
        `remembered`: Connection entries of files not read this run (each with its `file`);
        `other_entries`: every other remembered entry, for re-read files."""
        plan = ConnectionPlan()
        self._rows = PrefetchedConnections(self.connections)  # rows as this run found them
        lookup = PendingIntegrations(self.store, batch)
        reread = self._reread(remembered, lookup, plan)
        reread_paths = {f.path for f in plan.reread}
        for path in reread_paths:
            plan.kept_entries[path] = [
                {k: v for k, v in e.items() if k != "file"}
                for e in other_entries
                if e.get("file") == path
            ]
        documents = [*documents, *reread]
        declared: set[tuple[str, str]] = set()
        for entry in remembered:
            if entry["file"] in reread_paths:
                continue
            declared.add((entry["namespace"], entry["name"]))
            key = _entry_key(entry)
            plan.reports.append(
                PlannedResource(
                    KIND,
                    entry["namespace"],
                    entry["name"],
                    entry["file"],
                    "unchanged",
                    bool(entry.get("ready")),
                    key.address if key else None,
                    str(entry.get("reason", "")),
                )
            )
        resources: list[tuple[ConnectionDocument, Connection | None, SwitchboardError | None]] = []
        keys: set[ConnectionKey] = set()
        for document in documents:
            identity = _identity(document.data)
            try:
                resource: Connection | None = Connection.model_validate(document.data)
                error: SwitchboardError | None = None
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "document"
                resource, error = None, InvalidSpecError(first["msg"], field=where)
            if resource is not None:
                key = connection_key(resource)
                if identity in declared or key in keys:
                    what = f"{identity[0]}/{identity[1]}" if identity in declared else key.address
                    resource = None
                    error = InvalidSpecError(
                        f"Connection {what} is declared twice", field="metadata.name"
                    )
                else:
                    keys.add(key)
            declared.add(identity)
            resources.append((document, resource, error))
        outcomes = await self._reconcile_all(resources, lookup)
        for (document, resource, error), outcome in zip(resources, outcomes, strict=True):
            self._record(plan, batch, states, document, resource, error, outcome)
        if prune:
            self._prune(plan, batch, states, declared, in_scope)
        return plan

    async def _reconcile_all(
        self,
        resources: list[tuple[ConnectionDocument, Connection | None, SwitchboardError | None]],
        lookup: PendingIntegrations,
    ) -> list[ConnectionOutcome | None]:
        gate = asyncio.Semaphore(self.concurrency)
        stores = ConnectionStores(lookup, self._rows)

        async def one(resource: Connection | None) -> ConnectionOutcome | None:
            if resource is None:
                return None
            async with gate:
                return await reconcile_connection(
                    resource,
                    stores=stores,
                    registry=self.registry,
                    ctx=self.ctx,
                    credentials_provider=self.credentials,
                    now=self.now,
                    revision_pending=lookup.pending(resource.tenant, resource.spec.integration),
                )

        return list(await asyncio.gather(*(one(r) for _, r, _ in resources)))

    def _record(
        self,
        plan: ConnectionPlan,
        batch: WriteBatch,
        states: dict[str, FileState],
        document: ConnectionDocument,
        resource: Connection | None,
        error: SwitchboardError | None,
        outcome: ConnectionOutcome | None,
    ) -> None:
        namespace, name = _identity(document.data)
        entry: dict[str, Any] = {"kind": KIND, "namespace": namespace, "name": name}
        if outcome is None:
            failure = error or InvalidSpecError("invalid manifest", field="document")
            status = _invalid_status(document.data, failure, self.now)
            line = PlannedResource(
                KIND, namespace, name, document.path, "error", False, None, failure.reason,
                str(failure),
            )  # fmt: skip
            entry.update({"ready": False, "reason": failure.reason, "key": None})
        else:
            status = outcome.status.dump()
            line = PlannedResource(
                KIND,
                namespace,
                name,
                document.path,
                outcome.action,
                outcome.ready,
                outcome.key.address,
                outcome.error.reason if outcome.error else "",
                str(outcome.error) if outcome.error else "",
            )
            if outcome.write is not None:
                batch.connections.append(outcome.write)
            if outcome.removal is not None:
                batch.connection_removals.append(outcome.removal)
            previous = self._previous_key(states.get(document.path), namespace, name)
            if previous is not None and previous != outcome.key and outcome.removal is None:
                batch.connection_removals.append(previous)  # renamed: the old row goes
            synced = None
            if outcome.write is not None:
                synced = outcome.write.record.tools_synced_at
            elif outcome.removal is None:
                row = self._rows.get_connection(outcome.key)
                synced = row.tools_synced_at if row else None
            entry.update(
                {
                    "ready": outcome.ready,
                    "reason": line.reason,
                    "key": list(outcome.key),
                    "syncedAt": synced,
                }
            )
        plan.reports.append(line)
        plan.statuses[(document.path, document.chunk)] = (status, document.data.get("status"))
        plan.entries.setdefault(document.path, []).append(entry)

    @staticmethod
    def _previous_key(state: FileState | None, namespace: str, name: str) -> ConnectionKey | None:
        for entry in state.state.get("resources", []) if state else []:
            if (
                entry.get("kind") == KIND
                and entry.get("namespace") == namespace
                and entry.get("name") == name
            ):
                return _entry_key(entry)
        return None

    def _prune(
        self,
        plan: ConnectionPlan,
        batch: WriteBatch,
        states: dict[str, FileState],
        declared: set[tuple[str, str]],
        in_scope: Callable[[str], bool],
    ) -> None:
        """Connections whose document is gone: the row and its own tools are removed."""
        for path, state in states.items():
            if not in_scope(path):
                continue
            for entry in state.state.get("resources", []):
                key = _entry_key(entry)
                if entry.get("kind") != KIND or key is None:
                    continue
                if (entry.get("namespace"), entry.get("name")) in declared:
                    continue
                row = self._rows.get_connection(key)
                if row is None or row.resource != entry.get("name"):
                    continue
                batch.connection_removals.append(key)
                plan.reports.append(
                    PlannedResource(
                        KIND,
                        str(entry.get("namespace")),
                        str(entry.get("name")),
                        path,
                        "prune",
                        True,
                        key.address,
                    )
                )

    async def rebuild(self) -> RebuildReport:
        """After the run's writes: every other stale connection, in the background manner."""
        return await rebuild_stale(
            stores=ConnectionStores(self.store, self.connections),
            registry=self.registry,
            ctx=self.ctx,
            credentials_provider=self.credentials,
            now=self.now,
            concurrency=self.concurrency,
            jitter=self.jitter,
        )


def in_scope_of(root: Path, scopes: list[Path]) -> Callable[[str], bool]:
    resolved = [scope.resolve() for scope in scopes]
    return lambda path: any((root / path).resolve().is_relative_to(s) for s in resolved)
