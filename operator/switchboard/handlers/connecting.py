"""Cluster mode for Connections: read the object, call `reconcile_connection` with credentials from
Secrets in the connection's own namespace, then mirror, write status and post Events; and queue
connections again when what they read (their integration, their Secret) changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from switchboard.catalog.connections import connection_key
from switchboard.errors import (
    ConnectionAlreadyExistsError,
    InvalidSpecError,
    SwitchboardError,
    TemporaryError,
)
from switchboard.handlers.objects import (
    invalid_spec,
    object_path,
    read_meta,
    read_status,
    refresh_requested,
    write_status,
)
from switchboard.handlers.runtime import Runtime
from switchboard.models.conditions import Condition, now_rfc3339, transition
from switchboard.models.connection import (
    Connection,
    ConnectionKey,
    ConnectionSpec,
    ConnectionStatus,
)
from switchboard.models.meta import ObjectMeta
from switchboard.reconcile.connections import (
    ConnectionOutcome,
    ConnectionStores,
    compute_failure,
    reconcile_connection,
)

PLURAL = "connections"
BY_INTEGRATION = "connections_by_integration"
BY_SECRET = "connections_by_secret"  # noqa: S105 - an index name, not a credential


@dataclass(frozen=True)
class Handled:
    """What one Connection reconcile did, for the handler's log line and retry decision."""

    action: str
    ready: bool
    address: str | None
    error: SwitchboardError | None


def read_connection(
    body: Mapping[str, Any],
) -> tuple[ObjectMeta, Connection | None, ConnectionStatus | None, InvalidSpecError | None]:
    meta = read_meta(body)
    status = read_status(ConnectionStatus, body.get("status"))
    try:
        spec = ConnectionSpec.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        return meta, None, status, invalid_spec(exc, prefix="spec.")
    return meta, Connection(metadata=meta, spec=spec, status=status), status, None


def invalid_status(
    previous: ConnectionStatus | None,
    error: SwitchboardError,
    generation: int | None,
    now: datetime,
) -> tuple[ConnectionStatus, list[tuple[str, str, str]]]:
    """A spec that does not validate: Ready=False and Stalled=True, naming the field."""
    base = previous or ConnectionStatus()
    conditions, events = transition(
        base.conditions,
        [
            Condition(
                type=kind,
                status=value,
                reason=error.reason,
                message=str(error),
                observed_generation=generation,
            )
            for kind, value in (("Ready", "False"), ("Stalled", "True"))
        ],
        now=now,
    )
    status = base.model_copy(
        update={
            "observed_generation": generation,
            "conditions": conditions,
            "last_attempt_time": now_rfc3339(now),
        }
    )
    return status, events


def _owned_keys(runtime: Runtime, meta: ObjectMeta) -> list[ConnectionKey]:
    """The rows this object declared (normally one; two between a rename and its reconcile)."""
    return [
        ConnectionKey(r.tenant, r.owner, r.subject, r.integration, r.name)
        for r in runtime.connections.list_connections(meta.namespace or "default")
        if r.resource == meta.name
    ]


async def reconcile_connection_object(
    body: Mapping[str, Any], runtime: Runtime, *, force: bool = False
) -> Handled:
    """One reconcile of one Connection object; `force` materializes its tools again even when
    they look current (a rotated Secret may change what the upstream shows)."""
    now = datetime.now(UTC)
    meta, resource, previous, invalid = read_connection(body)
    lock = runtime.lock(meta.uid or meta.name)
    waited = lock.locked()
    async with lock:
        if waited:
            # Another reconcile of this object just wrote its status: start from that one.
            fresh = await runtime.kube.get(
                object_path(PLURAL, meta.namespace or "default", meta.name)
            )
            if fresh is None:
                return Handled("unchanged", False, None, None)
            body = fresh
            meta, resource, previous, invalid = read_connection(body)
        requested = refresh_requested(meta, previous.last_handled_refresh_at if previous else None)
        if resource is None:
            assert invalid is not None
            status, events = invalid_status(previous, invalid, meta.generation, now)
            handled = Handled("error", False, None, invalid)
        else:
            outcome = await _reconcile(resource, runtime, force=force or requested is not None)
            status, events = outcome.status, outcome.events
            error = outcome.error
            handled = Handled(outcome.action, outcome.ready, outcome.key.address, error)
        runtime.reconciles += 1
        if requested is not None:
            status.last_handled_refresh_at = requested
        await write_status(runtime, PLURAL, body, status.dump(), events)
    return handled


async def _reconcile(resource: Connection, runtime: Runtime, *, force: bool) -> ConnectionOutcome:
    now = datetime.now(UTC)
    app = runtime.app
    key = connection_key(resource)
    stored = runtime.connections.get_connection(key)
    if stored is not None and stored.resource not in (None, resource.metadata.name):
        # Another object holds this connection (applied together, before the webhook's index
        # saw the first): the holder keeps it, this one reports why it is not Ready.
        claimed = ConnectionAlreadyExistsError(key.address, owner=stored.resource)
        failed = compute_failure(resource, key, claimed, stored=None, now=now)
        failed.write = None
        return failed
    async with runtime.gate:
        outcome = await reconcile_connection(
            resource,
            stores=ConnectionStores(app.store, runtime.connections),
            registry=app.registry,
            ctx=app.plugin_context(namespace=resource.tenant),
            credentials_provider=runtime.credentials,
            now=now,
            force=force,
        )
    removals = [outcome.removal] if outcome.removal is not None else []
    previous = resource.status.address if resource.status else None
    if previous is not None and previous != outcome.key.address:
        # Renamed (integration, owner or name changed): the old row goes in the same transaction.
        removals += [k for k in _owned_keys(runtime, resource.metadata) if k != outcome.key]
    try:
        runtime.connections.apply_connections(
            [outcome.write] if outcome.write is not None else [], removals
        )
    except SwitchboardError as exc:
        stored = runtime.connections.get_connection(outcome.key)
        return compute_failure(resource, outcome.key, exc, stored=stored, now=now)
    return outcome


async def remove_connection_object(body: Mapping[str, Any], runtime: Runtime) -> None:
    """Delete the rows (and own tools) this object declared; other objects' rows are untouched."""
    meta, resource, _, _ = read_connection(body)
    async with runtime.lock(meta.uid or meta.name):
        keys = set(_owned_keys(runtime, meta))
        if resource is not None:
            key = connection_key(resource)
            stored = runtime.connections.get_connection(key)
            if stored is not None and stored.resource == meta.name:
                keys.add(key)
        runtime.connections.apply_connections([], sorted(keys))
        runtime.forget(meta.uid or meta.name)


async def reconcile_connection_named(
    runtime: Runtime, namespace: str, name: str, *, force: bool = False
) -> None:
    """Re-read the object (the index saw an older one) and reconcile it; an outage is retried in
    the background after the error's delay."""
    body = await runtime.kube.get(object_path(PLURAL, namespace, name))
    if body is None or body.get("metadata", {}).get("deletionTimestamp"):
        return
    handled = await reconcile_connection_object(body, runtime, force=force)
    if isinstance(handled.error, TemporaryError):
        runtime.spawn(
            f"connection/{namespace}/{name}/retry",
            _reconciler(runtime, namespace, name, force=force),
            delay=handled.error.delay,
        )


def _reconciler(
    runtime: Runtime, namespace: str, name: str, *, force: bool
) -> Callable[[], Awaitable[None]]:
    return lambda: reconcile_connection_named(runtime, namespace, name, force=force)


def _requeue(runtime: Runtime, index: str, key: tuple[str, str], *, force: bool) -> None:
    found = runtime.indices.get(index)
    if found is None:
        return
    namespace = key[0]
    for name in sorted(set(found.get(key, ()))):
        runtime.spawn(
            f"connection/{namespace}/{name}", _reconciler(runtime, namespace, name, force=force)
        )


def requeue_connections(runtime: Runtime, tenant: str, slug: str) -> None:
    """An integration was registered, changed or removed: its connections follow."""
    _requeue(runtime, BY_INTEGRATION, (tenant, slug), force=False)


def requeue_for_secret(runtime: Runtime, namespace: str, secret: str) -> None:
    """A Secret changed: the connections reading it resolve again and rediscover their tools."""
    _requeue(runtime, BY_SECRET, (namespace, secret), force=True)
