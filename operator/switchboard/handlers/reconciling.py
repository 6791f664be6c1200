"""Cluster mode around the shared reconcile path: read an Integration object (and the ConfigMaps
it names), call `reconcile_integration`, then mirror, write status and post Events."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import kopf
from pydantic import ValidationError

from switchboard.catalog.ports import WriteBatch
from switchboard.errors import (
    IntegrationNotFoundError,
    IntegrationRemovalNotAllowedError,
    InvalidSpecError,
    SwitchboardError,
)
from switchboard.handlers.runtime import GROUP, REFRESH_ANNOTATION, VERSION, Runtime
from switchboard.models.integration import Integration, IntegrationSpec, IntegrationStatus
from switchboard.models.meta import ObjectMeta
from switchboard.models.sources import ConfigMapKeyRef
from switchboard.reconcile.integrations import (
    IntegrationOutcome,
    compute_failure,
    fingerprint,
    reconcile_integration,
)
from switchboard.storage.kubernetes import config_map_value, merge_patch

log = logging.getLogger(__name__)
META_FIELDS = ("name", "namespace", "generation", "uid", "resourceVersion", "labels", "annotations")


def object_path(plural: str, namespace: str, name: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}/{name}"


def invalid_spec(exc: ValidationError, *, prefix: str = "") -> InvalidSpecError:
    """The first validation error, naming its field (`spec.openapi.source`)."""
    first = exc.errors()[0]
    where = prefix + ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidSpecError(message, field=where.rstrip(".") or "spec")


def _previous_status(raw: object) -> IntegrationStatus | None:
    # Status written by an older or newer operator must not block a reconcile: start afresh.
    try:
        return IntegrationStatus.model_validate(raw) if raw else None
    except ValidationError:
        return None


def read_integration(body: Mapping[str, Any]) -> tuple[Integration, InvalidSpecError | None]:
    """The object as a model; when its spec does not validate, a stand-in carrying only the
    metadata and previous status (all a failure status needs) and the error naming the field."""
    raw_meta = body.get("metadata") or {}
    meta = ObjectMeta.model_validate({k: raw_meta[k] for k in META_FIELDS if k in raw_meta})
    status = _previous_status(body.get("status"))
    try:
        spec = IntegrationSpec.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        error = invalid_spec(exc, prefix="spec.")
        stand_in = Integration.model_construct(
            metadata=meta, spec=IntegrationSpec.model_construct(kind=""), status=status
        )
        return stand_in, error
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
    body: Mapping[str, Any], runtime: Runtime, *, now: datetime | None = None
) -> IntegrationOutcome:
    """One reconcile of one Integration object: the whole cluster-mode cycle."""
    now = now or datetime.now(UTC)
    resource, invalid = read_integration(body)
    meta = resource.metadata
    async with runtime.lock(meta.uid or meta.name):
        requested = (meta.annotations or {}).get(REFRESH_ANNOTATION)
        previous = resource.status
        force = requested is not None and requested != (
            previous and previous.last_handled_refresh_at
        )
        if invalid is not None:
            outcome = compute_failure(resource, invalid, slug=None, now=now)
        else:
            outcome = await _reconcile(resource, runtime, now=now, force=force)
        runtime.reconciles += 1
        if force:
            outcome.status.last_handled_refresh_at = requested
        await _mirror(resource, outcome, runtime, now=now)
        status = outcome.status.dump()
        patch = merge_patch_status(body.get("status"), status)
        if patch:
            await runtime.kube.patch_status(
                object_path("integrations", resource.tenant, meta.name), patch
            )
        for type_, reason, message in outcome.events:
            post_event(body, type_, reason, message)
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


async def _mirror(
    resource: Integration, outcome: IntegrationOutcome, runtime: Runtime, *, now: datetime
) -> None:
    """Apply the mirror write (and drop the row of a renamed slug) in one transaction; a database
    failure turns into the status instead."""
    if outcome.write is None:
        return
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


def post_event(body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    """A Kubernetes Event on the object (kopf queues and posts it in the background)."""
    target = kopf.Body(cast(kopf.RawBody, dict(body)))
    kopf.event(target, type=type_, reason=reason, message=message)


def merge_patch_status(old: object, new: dict[str, Any]) -> dict[str, Any]:
    return merge_patch(old if isinstance(old, Mapping) else None, new)


async def remove_object(body: Mapping[str, Any], runtime: Runtime) -> SwitchboardError | None:
    """Delete the mirror rows this object declared. Returns the refusal when the integration
    cannot be removed (its status then says so, and the caller keeps the finalizer)."""
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
            patch = merge_patch_status(body.get("status"), failed.status.dump())
            if patch:
                await runtime.kube.patch_status(
                    object_path("integrations", resource.tenant, meta.name), patch
                )
            for type_, reason, message in failed.events:
                post_event(body, type_, reason, message)
            return exc
        runtime.forget(meta.uid or meta.name)
    return None
