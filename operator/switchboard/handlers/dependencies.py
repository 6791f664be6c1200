"""Watches on what our objects read, through in-memory indices (no polling): a changed ConfigMap
re-registers the Integrations whose sources name it; a changed Secret re-resolves the Connections
whose credentials it holds; a changed Integration is followed by its Connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import kopf

from switchboard.errors import TemporaryError
from switchboard.handlers.connecting import BY_INTEGRATION, BY_SECRET, requeue_for_secret
from switchboard.handlers.objects import object_path
from switchboard.handlers.reconciling import config_map_names, reconcile_object
from switchboard.handlers.runtime import GROUP, VERSION, Runtime

BY_CONFIG_MAP = "integrations_by_config_map"
INDICES = (BY_CONFIG_MAP, BY_INTEGRATION, BY_SECRET)


@kopf.index(GROUP, VERSION, "integrations")
def integrations_by_config_map(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[tuple[str | None, str], str]:
    return {(namespace, config_map): name for config_map in config_map_names(dict(spec))}


async def reconcile_named(runtime: Runtime, namespace: str, name: str) -> None:
    """Re-read the object (its status may have moved on since the index saw it) and reconcile;
    an outage is retried in the background after the error's delay."""
    body = await runtime.kube.get(object_path("integrations", namespace, name))
    if body is None or body.get("metadata", {}).get("deletionTimestamp"):
        return
    outcome = await reconcile_object(body, runtime)
    if isinstance(outcome.error, TemporaryError):
        runtime.spawn(
            f"integration/{namespace}/{name}/retry",
            _reconciler(runtime, namespace, name),
            delay=outcome.error.delay,
        )


@kopf.on.event("v1", "configmaps")
async def config_map_changed(
    event: kopf.RawEvent, namespace: str | None, name: str, memo: kopf.Memo, **kwargs: Any
) -> None:
    if event.get("type") is None or namespace is None:
        return  # the initial listing: the resume handlers reconcile everything anyway
    runtime: Runtime = memo.runtime
    index: kopf.Index[tuple[str, str], str] = kwargs[BY_CONFIG_MAP]
    for owner in set(index.get((namespace, name), ())):
        runtime.spawn(f"integration/{namespace}/{owner}", _reconciler(runtime, namespace, owner))


def _reconciler(runtime: Runtime, namespace: str, name: str) -> Callable[[], Awaitable[None]]:
    return lambda: reconcile_named(runtime, namespace, name)


@kopf.index(GROUP, VERSION, "connections")
def connections_by_integration(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[tuple[str | None, str], str]:
    integration = spec.get("integration")
    return {(namespace, integration): name} if isinstance(integration, str) else {}


@kopf.index(GROUP, VERSION, "connections")
def connections_by_secret(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[tuple[str | None, str], str]:
    ref = ((spec.get("credentials") or {}).get("secretRef") or {}).get("name")
    return {(namespace, ref): name} if isinstance(ref, str) else {}


@kopf.on.event("v1", "secrets")
async def secret_changed(
    event: kopf.RawEvent, namespace: str | None, name: str, memo: kopf.Memo, **_: Any
) -> None:
    """Only names and namespaces are read here; the values are read again, when needed, by the
    Connection's own reconcile."""
    if event.get("type") is None or namespace is None:
        return
    requeue_for_secret(memo.runtime, namespace, name)
