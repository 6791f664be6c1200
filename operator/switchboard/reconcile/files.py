"""File mode: reconcile every manifest under some paths into the mirror, in one transaction, and
write each resource's status back into its own document.

An unchanged file (same digest as last written, same digests for the spec files it reads) is not
parsed again, so a no-op run over a large repository costs a hash per file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from switchboard.catalog.ports import (
    CatalogStore,
    ConnectionStore,
    CredentialProviders,
    FileState,
    WriteBatch,
)
from switchboard.catalog.registering import resolve_slug
from switchboard.errors import InvalidSpecError, SwitchboardError, TemporaryError
from switchboard.models.conditions import now_rfc3339
from switchboard.models.integration import API_VERSION, Integration
from switchboard.models.records import IntegrationRecord
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.registry import PluginRegistry
from switchboard.reconcile.connection_files import (
    KIND as CONNECTION,
)
from switchboard.reconcile.connection_files import (
    ConnectionDocument,
    ConnectionFiles,
    in_scope_of,
)
from switchboard.reconcile.durations import parse_duration
from switchboard.reconcile.integrations import (
    IntegrationOutcome,
    compute_failure,
    fingerprint,
    reconcile_integration,
)
from switchboard.reconcile.ports import ManifestFile, ManifestStore

Action = Literal["create", "update", "unchanged", "prune", "error"]
MARKER = b"switchboard.dev/"
"""Files without this text declare no Switchboard resource and are not parsed at all."""
RECHECKED_REASONS = {"IntegrationAlreadyExists"}
"""Failures that depend on other manifests: re-checked even when their own file is unchanged."""


@dataclass
class ResourceReport:
    """One line of the run's plan or result."""

    kind: str
    namespace: str
    name: str
    file: str
    action: Action
    ready: bool
    slug: str | None = None
    reason: str = ""
    message: str = ""


@dataclass
class RunReport:
    resources: list[ResourceReport] = field(default_factory=list)
    skipped_documents: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_written: int = 0
    dry_run: bool = False

    @property
    def failed(self) -> bool:
        return any(r.action == "error" for r in self.resources)


@dataclass
class _Declared:
    file: ManifestFile
    chunk: int
    data: dict[str, Any]
    resource: Integration | None
    invalid: SwitchboardError | None
    dependencies: list[str]


def _validation_error(exc: ValidationError) -> InvalidSpecError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "document"
    return InvalidSpecError(first["msg"], field=where)


def _is_ours(data: object) -> bool:
    return (
        isinstance(data, dict)
        and data.get("apiVersion") == API_VERSION
        and data.get("kind") in ("Integration", "Connection")
    )


def _dependencies(data: dict[str, Any]) -> list[str]:
    """Repository files a resource reads (spec or introspection files)."""
    spec = data.get("spec")
    if not isinstance(spec, dict):
        return []
    out = []
    for sub in spec.values():
        if isinstance(sub, dict):
            for key in ("source", "introspection"):
                source = sub.get(key)
                if isinstance(source, dict) and isinstance(source.get("file"), str):
                    out.append(source["file"])
    return out


def _identity(data: dict[str, Any]) -> tuple[str, str, str]:
    raw = data.get("metadata")
    meta: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return (
        str(data.get("kind")),
        str(meta.get("namespace") or "default"),
        str(meta.get("name") or ""),
    )


class FileReconciler:
    """One file-mode run."""

    def __init__(
        self,
        *,
        manifests: ManifestStore,
        store: CatalogStore,
        registry: PluginRegistry,
        ctx: PluginContext,
        now: datetime,
        concurrency: int = 8,
        progress: Callable[[int, int], None] | None = None,
        connections: ConnectionStore | None = None,
        credentials: CredentialProviders | None = None,
        jitter: float = 0.25,
    ) -> None:
        self.manifests = manifests
        self.store = store
        self.registry = registry
        self.ctx = ctx
        self.now = now
        self.concurrency = concurrency
        self.progress = progress
        self.root_key = str(manifests.root)
        # Connection documents are reconciled when a connection store and the mode's credential
        # providers are wired in; without them they are counted as skipped.
        self.connections = (
            ConnectionFiles(
                manifests=manifests,
                store=store,
                connections=connections,
                registry=registry,
                ctx=ctx,
                credentials=credentials,
                now=now,
                concurrency=concurrency,
                jitter=jitter,
            )
            if connections is not None and credentials is not None
            else None
        )

    def _unchanged(self, file: ManifestFile, state: FileState | None) -> bool:
        if state is None or state.digest != file.digest:
            return False
        for resource in state.state.get("resources", []):
            if not resource.get("ready") and resource.get("reason") in RECHECKED_REASONS:
                return False
            if not resource.get("ready") and resource.get("temporary"):
                return False
            due = resource.get("refreshDue")
            if isinstance(due, str) and due <= now_rfc3339(self.now):
                return False  # a URL source whose refresh interval has passed
        deps: dict[str, str | None] = state.state.get("dependencies", {})
        return all(self.manifests.digest(path) == digest for path, digest in deps.items())

    async def run(self, paths: list[Path], *, dry_run: bool, prune: bool) -> RunReport:
        report = RunReport(dry_run=dry_run)
        scanned = self.manifests.scan(paths)
        scopes = [self.manifests.root / p for p in paths]
        states = self.store.file_states(self.root_key)
        declared: list[_Declared] = []
        unchanged_resources: list[dict[str, Any]] = []
        connection_documents: list[ConnectionDocument] = []
        changed_files: list[ManifestFile] = []
        for path in scanned:
            file = self.manifests.read(path)
            state = states.get(path)
            if self._unchanged(file, state):
                assert state is not None
                report.files_unchanged += 1
                unchanged_resources.extend(
                    {**remembered, "file": path} for remembered in state.state.get("resources", [])
                )
                continue
            report.files_read += 1
            if MARKER not in file.body:
                # Not a Switchboard manifest (a spec, another tool's YAML): never parsed.
                report.skipped_documents += len(self.manifests.split(file))
                changed_files.append(file)
                continue
            try:
                documents = self.manifests.load(file)
            except SwitchboardError as exc:
                report.resources.append(
                    ResourceReport(
                        kind="File",
                        namespace="",
                        name=path,
                        file=path,
                        action="error",
                        ready=False,
                        reason=exc.reason,
                        message=str(exc),
                    )
                )
                # The file's resources are kept as they were: nothing stored is lost.
                if state is not None:
                    unchanged_resources.extend(
                        {**r, "file": path, "kept": True} for r in state.state.get("resources", [])
                    )
                continue
            changed_files.append(file)
            for document in documents:
                if not _is_ours(document.data):
                    if document.data is not None:
                        report.skipped_documents += 1
                    continue
                data: dict[str, Any] = document.data
                if data.get("kind") != "Integration":
                    if self.connections is None:
                        report.skipped_documents += 1
                    else:  # reconciled by their own path, after the integrations
                        connection_documents.append(ConnectionDocument(path, document.index, data))
                    continue
                try:
                    resource: Integration | None = Integration.model_validate(data)
                    invalid = None
                except ValidationError as exc:
                    resource, invalid = None, _validation_error(exc)
                declared.append(
                    _Declared(file, document.index, data, resource, invalid, _dependencies(data))
                )
        remembered_connections = [r for r in unchanged_resources if r.get("kind") == CONNECTION]
        unchanged_resources = [r for r in unchanged_resources if r.get("kind") != CONNECTION]
        outcomes = await self._reconcile_all(declared, unchanged_resources)
        return await self._finish(
            report,
            declared,
            outcomes,
            unchanged_resources,
            changed_files,
            states,
            scanned,
            scopes,
            dry_run=dry_run,
            prune=prune,
            connection_documents=connection_documents,
            remembered_connections=remembered_connections,
        )

    async def _reconcile_all(
        self, declared: list[_Declared], unchanged: list[dict[str, Any]]
    ) -> list[IntegrationOutcome | None]:
        keys = set()
        for item in declared:
            if item.resource is not None:
                try:
                    keys.add((item.resource.tenant, resolve_slug(item.resource)))
                except SwitchboardError:
                    continue
        # Only the rows this run can touch: a no-op run over a large catalog reads none.
        stored = self.store.get_many(keys) if keys else {}
        claims: dict[tuple[str, str], str] = {}
        for (tenant, slug), record in stored.items():
            if record.resource:
                claims[(tenant, slug)] = record.resource
        for resource in unchanged:
            if resource.get("slug") and resource.get("ready"):
                claims.setdefault((resource["namespace"], resource["slug"]), resource["name"])
        seen: set[tuple[str, str]] = set()
        for item in declared:
            if item.resource is None:
                continue
            key = (item.resource.tenant, item.resource.metadata.name)
            if key in seen:
                item.invalid = InvalidSpecError(
                    f"Integration {key[0]}/{key[1]} is declared twice", field="metadata.name"
                )
                continue
            seen.add(key)
            try:
                slug = resolve_slug(item.resource)
            except SwitchboardError:
                continue
            owner = claims.get((item.resource.tenant, slug))
            # A manifest whose slug's owner no longer declares it takes the slug over.
            if owner is not None and owner != item.resource.metadata.name:
                owner_declared = any(
                    d.resource is not None
                    and d.resource.tenant == item.resource.tenant
                    and d.resource.metadata.name == owner
                    for d in declared
                ) or any(
                    u["name"] == owner and u["namespace"] == item.resource.tenant for u in unchanged
                )
                if not owner_declared:
                    claims[(item.resource.tenant, slug)] = item.resource.metadata.name
            claims.setdefault((item.resource.tenant, slug), item.resource.metadata.name)

        gate = asyncio.Semaphore(self.concurrency)
        done = 0

        async def one(item: _Declared) -> IntegrationOutcome | None:
            nonlocal done
            async with gate:
                try:
                    return await self._reconcile_one(item, stored, claims)
                finally:
                    done += 1
                    if self.progress is not None:
                        self.progress(done, len(declared))

        return list(await asyncio.gather(*(one(item) for item in declared)))

    async def _reconcile_one(
        self,
        item: _Declared,
        stored: dict[tuple[str, str], IntegrationRecord],
        claims: dict[tuple[str, str], str],
    ) -> IntegrationOutcome | None:
        if item.resource is None or item.invalid is not None:
            return None
        resource = item.resource
        deps = [(self.manifests.digest(p) or "missing").encode() for p in item.dependencies]
        manifest_hash = fingerprint(resource, *deps)
        try:
            slug = resolve_slug(resource)
        except SwitchboardError as exc:
            return compute_failure(resource, exc, slug=None, now=self.now)
        record = stored.get((resource.tenant, slug))
        if record is not None and record.resource != resource.metadata.name:
            owner = claims.get((resource.tenant, slug))
            if owner == resource.metadata.name:
                record = None  # taking over a slug whose declaring manifest is gone
        return await reconcile_integration(
            resource,
            store=self.store,
            registry=self.registry,
            ctx=self.ctx,
            now=self.now,
            manifest_hash=manifest_hash,
            claimed_by=claims.get((resource.tenant, slug)),
            stored=record,
            prefetched=True,
        )

    async def _finish(
        self,
        report: RunReport,
        declared: list[_Declared],
        outcomes: list[IntegrationOutcome | None],
        unchanged: list[dict[str, Any]],
        changed_files: list[ManifestFile],
        states: dict[str, FileState],
        scanned: list[str],
        scopes: list[Path],
        *,
        dry_run: bool,
        prune: bool,
        connection_documents: list[ConnectionDocument],
        remembered_connections: list[dict[str, Any]],
    ) -> RunReport:
        batch = WriteBatch()
        statuses: dict[tuple[str, int], tuple[dict[str, Any], Any]] = {}
        file_resources: dict[str, list[dict[str, Any]]] = {f.path: [] for f in changed_files}
        file_deps: dict[str, dict[str, str | None]] = {f.path: {} for f in changed_files}
        now_declared: dict[tuple[str, str], str | None] = {}
        for item, outcome in zip(declared, outcomes, strict=True):
            kind, namespace, name = _identity(item.data)
            if outcome is None:
                error = item.invalid or InvalidSpecError("invalid manifest", field="document")
                status = _failure_status(item, error, self.now)
                entry = ResourceReport(
                    kind=kind,
                    namespace=namespace,
                    name=name,
                    file=item.file.path,
                    action="error",
                    ready=False,
                    reason=error.reason,
                    message=str(error),
                )
                slug = None
                temporary = False
            else:
                status = outcome.status.dump()
                entry = ResourceReport(
                    kind=kind,
                    namespace=namespace,
                    name=name,
                    file=item.file.path,
                    action=outcome.action,
                    ready=outcome.ready,
                    slug=outcome.slug,
                    reason=outcome.error.reason if outcome.error else "",
                    message=str(outcome.error) if outcome.error else "",
                )
                slug = outcome.slug if outcome.error is None else None
                temporary = isinstance(outcome.error, TemporaryError)
                if outcome.write is not None:
                    batch.integrations.append(outcome.write)
            report.resources.append(entry)
            statuses[(item.file.path, item.chunk)] = (status, item.data.get("status"))
            previous_slug = self._previous_slug(states.get(item.file.path), namespace, name)
            kept_slug = slug or previous_slug
            now_declared[(namespace, name)] = kept_slug
            if slug and previous_slug and previous_slug != slug:
                batch.removals.append((namespace, previous_slug))  # the slug was renamed
            file_resources[item.file.path].append(
                {
                    "namespace": namespace,
                    "name": name,
                    "slug": kept_slug,
                    "ready": entry.ready,
                    "reason": entry.reason,
                    "temporary": temporary,
                    "refreshDue": _refresh_due(item, outcome),
                }
            )
            for dep in item.dependencies:
                file_deps[item.file.path][dep] = self.manifests.digest(dep)
        for remembered in unchanged:
            now_declared[(remembered["namespace"], remembered["name"])] = remembered.get("slug")
            report.resources.append(
                ResourceReport(
                    kind="Integration",
                    namespace=remembered["namespace"],
                    name=remembered["name"],
                    file=remembered["file"],
                    action="unchanged",
                    ready=bool(remembered.get("ready")),
                    slug=remembered.get("slug"),
                    reason=remembered.get("reason", ""),
                )
            )
        if prune:
            self._prune(report, batch, states, scanned, scopes, now_declared)
        if self.connections is not None:
            # After the integrations are planned: connections see this run's writes and prunes.
            plan = await self.connections.plan(
                documents=connection_documents,
                remembered=remembered_connections,
                other_entries=unchanged,
                batch=batch,
                states=states,
                in_scope=in_scope_of(self.manifests.root, scopes),
                prune=prune,
            )
            report.resources.extend(ResourceReport(**vars(line)) for line in plan.reports)
            report.files_read += len(plan.reread)
            for file in plan.reread:
                changed_files.append(file)
                file_resources[file.path] = plan.kept_entries.get(file.path, [])
                file_deps[file.path] = dict(states[file.path].state.get("dependencies", {}))
            statuses.update(plan.statuses)
            for path, entries in plan.entries.items():
                file_resources[path].extend(entries)
        new_bodies: dict[str, bytes] = {}
        for file in changed_files:
            chunks = list(file.chunks)
            for index, chunk in enumerate(chunks):
                planned = statuses.get((file.path, index))
                if planned is None:
                    continue
                status, current = planned
                if current != status:
                    chunks[index] = self.manifests.with_status(chunk, status)
            body = b"".join(chunks)
            new_bodies[file.path] = body
            written = ManifestFile(path=file.path, body=body)
            batch.files.append(
                FileState(
                    root=self.root_key,
                    path=file.path,
                    digest=written.digest,
                    state={
                        "resources": file_resources[file.path],
                        "dependencies": file_deps[file.path],
                    },
                )
            )
        if dry_run:
            return report
        self.store.apply(batch)
        for file in changed_files:
            if new_bodies[file.path] != file.body:
                self.manifests.write(file.path, new_bodies[file.path])
                report.files_written += 1
        if self.connections is not None:
            await self.connections.rebuild()  # stale connections this run did not visit
        return report

    @staticmethod
    def _previous_slug(state: FileState | None, namespace: str, name: str) -> str | None:
        if state is None:
            return None
        for resource in state.state.get("resources", []):
            if resource.get("kind") == CONNECTION:
                continue
            if resource.get("namespace") == namespace and resource.get("name") == name:
                slug = resource.get("slug")
                return slug if isinstance(slug, str) else None
        return None

    def _prune(
        self,
        report: RunReport,
        batch: WriteBatch,
        states: dict[str, FileState],
        scanned: list[str],
        scopes: list[Path],
        now_declared: dict[tuple[str, str], str | None],
    ) -> None:
        root = self.manifests.root
        present = set(scanned)
        for path, state in states.items():
            in_scope = any(
                (root / path).resolve().is_relative_to(scope.resolve()) for scope in scopes
            )
            if not in_scope:
                continue
            if path not in present:
                batch.file_removals.append((self.root_key, path))
            for resource in state.state.get("resources", []):
                key = (resource.get("namespace"), resource.get("name"))
                slug = resource.get("slug")
                if key in now_declared or not slug:
                    continue
                stored = self.store.get(key[0], slug)
                if stored is None or stored.resource != key[1]:
                    continue
                batch.removals.append((key[0], slug))
                report.resources.append(
                    ResourceReport(
                        kind="Integration",
                        namespace=key[0],
                        name=key[1],
                        file=path,
                        action="prune",
                        ready=True,
                        slug=slug,
                    )
                )


def _failure_status(item: _Declared, error: SwitchboardError, now: datetime) -> dict[str, Any]:
    """Status for a document that did not validate: conditions only, previous status kept."""
    from switchboard.models.conditions import Condition, set_condition, with_reconciling
    from switchboard.models.integration import IntegrationStatus

    previous_raw = item.data.get("status")
    try:
        previous = (
            IntegrationStatus.model_validate(previous_raw)
            if isinstance(previous_raw, dict)
            else IntegrationStatus()
        )
    except ValidationError:
        previous = IntegrationStatus()
    conditions = set_condition(
        previous.conditions,
        Condition(type="Ready", status="False", reason=error.reason, message=str(error)),
        now=now,
    )
    conditions = set_condition(
        conditions,
        Condition(type="Stalled", status="True", reason=error.reason, message=str(error)),
        now=now,
    )
    conditions = with_reconciling(conditions, now=now)
    return previous.model_copy(update={"conditions": conditions}).dump()


def _refresh_due(item: _Declared, outcome: IntegrationOutcome | None) -> str | None:
    """When a refreshable source (a URL) is next re-read, for files that stay unchanged."""
    resource, status = item.resource, outcome.status if outcome is not None else None
    if resource is None or status is None or not status.can_refresh or not status.last_success_time:
        return None
    refresh = resource.spec.refresh
    if refresh is None or refresh.interval is None:
        return None
    last = datetime.strptime(status.last_success_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return now_rfc3339(last + parse_duration(refresh.interval))
