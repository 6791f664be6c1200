"""Cluster mode around the shared reconcile path: read an Integration object (and the ConfigMaps
it names), call `reconcile_integration`, then mirror, write status and post Events."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from switchboard.catalog.ports import WriteBatch
from switchboard.errors import (
    IntegrationNotFoundError,
    IntegrationRemovalNotAllowedError,
    InvalidSpecError,
    SwitchboardError,
)
from switchboard.handlers.connecting import requeue_connections
from switchboard.handlers.objects import (
    invalid_spec,
    object_path,
    read_meta,
    read_status,
    refresh_requested,
    write_status,
)
from switchboard.handlers.runtime import Runtime
from switchboard.models.integration import Integration, IntegrationSpec, IntegrationStatus
from switchboard.models.sources import ConfigMapKeyRef
from switchboard.reconcile.integrations import (
    IntegrationOutcome,
    compute_failure,
    fingerprint,
    reconcile_integration,
)
from switchboard.storage.kubernetes import config_map_value

log = logging.getLogger(__name__)
PLURAL = "integrations"


def read_integration(body: Mapping[str, Any]) -> tuple[Integration, InvalidSpecError | None]:
    """The object as a model; when its spec does not validate, a stand-in carrying only the
    metadata and previous status (all a failure status needs) and the error naming the field."""
    meta = read_meta(body)
    status = read_status(IntegrationStatus, body.get("status"))
    try:
        spec = IntegrationSpec.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        stand_in = Integration.model_construct(
            metadata=meta, spec=IntegrationSpec.model_construct(kind=""), status=status
        )
        return stand_in, invalid_spec(exc, prefix="spec.")
    return Integration(metadata=meta, spec=spec, status=status), None


def config_map_names(spec: Any) -> list[str]:
    """Every `configMapRef.name` anywhere in a spec (built-in kinds and plugin configs alike)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            ref = node.get("configMapRef")
            if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
                found.append(ref["name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return sorted(set(found))


class ConfigMaps:
    """The ConfigMaps one reconcile reads, each fetched once: their resourceVersions go into the
    manifest hash, their keys to the plugin."""

    def __init__(self, runtime: Runtime, namespace: str) -> None:
        self.runtime = runtime
        self.namespace = namespace
        self.found: dict[str, dict[str, Any] | None] = {}

    async def fetch(self, name: str) -> dict[str, Any] | None:
        if name not in self.found:
            self.found[name] = await self.runtime.kube.config_map(self.namespace, name)
        return self.found[name]

    async def versions(self, names: list[str]) -> list[bytes]:
        out = []
        for name in names:
            found = await self.fetch(name)
            version = (found or {}).get("metadata", {}).get("resourceVersion", "missing")
            out.append(f"configmap/{name}={version}".encode())
        return out

    async def read(self, ref: ConfigMapKeyRef, namespace: str) -> bytes:
        return config_map_value(await self.fetch(ref.name), ref, namespace)


async def reconcile_object(
    body: Mapping[str, Any],
    runtime: Runtime,
    *,
    now: datetime | None = None,
    force: bool = False,
) -> IntegrationOutcome:
    """One reconcile of one Integration object: the whole cluster-mode cycle. Connections of an
    integration that changed are queued to follow it. `force` re-reads the source even when
    nothing declared changed (the upstream said it did)."""
    now = now or datetime.now(UTC)
    resource, invalid = read_integration(body)
    meta = resource.metadata
    lock = runtime.lock(meta.uid or meta.name)
    waited = lock.locked()
    async with lock:
        if waited:
            # Another reconcile of this object just wrote its status: start from that one.
            fresh = await runtime.kube.get(object_path(PLURAL, resource.tenant, meta.name))
            if fresh is None:
                return IntegrationOutcome(
                    meta.name,
                    resource.tenant,
                    None,
                    "unchanged",
                    resource.status or IntegrationStatus(),
                )
            body = fresh
            resource, invalid = read_integration(body)
            meta = resource.metadata
        previous = resource.status.last_handled_refresh_at if resource.status else None
        requested = refresh_requested(meta, previous)
        if invalid is not None:
            outcome = compute_failure(resource, invalid, slug=None, now=now)
        else:
            outcome = await _reconcile(
                resource, runtime, now=now, force=force or requested is not None
            )
        runtime.reconciles += 1
        if requested is not None:
            outcome.status.last_handled_refresh_at = requested
        changed = _mirror(resource, outcome, runtime, now=now)
        await write_status(runtime, PLURAL, body, outcome.status.dump(), outcome.events)
    if changed and outcome.slug:
        requeue_connections(runtime, resource.tenant, outcome.slug)
    return outcome


async def _reconcile(
    resource: Integration, runtime: Runtime, *, now: datetime, force: bool
) -> IntegrationOutcome:
    config_maps = ConfigMaps(runtime, resource.tenant)
    names = config_map_names(resource.spec.model_dump(mode="json", by_alias=True))
    dependencies = [f"generation={resource.metadata.generation}".encode()]
    try:
        dependencies.extend(await config_maps.versions(names))
    except SwitchboardError as exc:
        return compute_failure(resource, exc, slug=None, now=now)
    app = runtime.app
    async with runtime.gate:
        return await reconcile_integration(
            resource,
            store=app.store,
            registry=app.registry,
            ctx=app.plugin_context(config_maps=config_maps.read, namespace=resource.tenant),
            now=now,
            manifest_hash=fingerprint(resource, *dependencies),
            force=force,
        )


def _mirror(
    resource: Integration, outcome: IntegrationOutcome, runtime: Runtime, *, now: datetime
) -> bool:
    """Apply the mirror write (and drop the row of a renamed slug) in one transaction; a database
    failure turns into the status instead. True when the catalog changed."""
    if outcome.write is None:
        return False
    batch = WriteBatch(integrations=[outcome.write])
    previous = resource.status.slug if resource.status else None
    store = runtime.app.store
    try:
        if previous and previous != outcome.slug:
            old = store.get(resource.tenant, previous)
            if old is not None and old.resource == resource.metadata.name:
                batch.removals.append((resource.tenant, previous))
        store.apply(batch)
    except SwitchboardError as exc:
        failed = compute_failure(resource, exc, slug=outcome.slug, now=now)
        outcome.status, outcome.events, outcome.error = failed.status, failed.events, exc
        outcome.write = None
        return False
    return True


async def remove_object(body: Mapping[str, Any], runtime: Runtime) -> SwitchboardError | None:
    """Delete the mirror rows this object declared (its connections' rows go with them). Returns
    the refusal when the integration cannot be removed: its status then says so, and the caller
    keeps the finalizer."""
    resource, invalid = read_integration(body)
    meta = resource.metadata
    store = runtime.app.store
    async with runtime.lock(meta.uid or meta.name):
        slug = resource.status.slug if resource.status and resource.status.slug else None
        if slug is None and invalid is None:
            slug = resource.slug
        stored = store.get(resource.tenant, slug) if slug else None
        if slug is None or stored is None or stored.resource != meta.name:
            runtime.forget(meta.uid or meta.name)
            return None  # never registered, or the slug belongs to another object
        try:
            runtime.app.catalog.remove(resource.tenant, slug)
        except IntegrationNotFoundError:
            pass
        except IntegrationRemovalNotAllowedError as exc:
            failed = compute_failure(resource, exc, slug=slug, now=datetime.now(UTC))
            await write_status(runtime, PLURAL, body, failed.status.dump(), failed.events)
            return exc
        runtime.forget(meta.uid or meta.name)
    requeue_connections(runtime, resource.tenant, slug)
    return None
