"""Watches on what Integrations read: a changed ConfigMap re-reconciles the Integrations whose
sources name it, found through an in-memory index (no polling)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import kopf

from switchboard.errors import TemporaryError
from switchboard.handlers.reconciling import config_map_names, object_path, reconcile_object
from switchboard.handlers.runtime import GROUP, VERSION, Runtime


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
    index: kopf.Index[tuple[str, str], str] = kwargs["integrations_by_config_map"]
    for owner in set(index.get((namespace, name), ())):
        runtime.spawn(f"integration/{namespace}/{owner}", _reconciler(runtime, namespace, owner))


def _reconciler(runtime: Runtime, namespace: str, name: str) -> Callable[[], Awaitable[None]]:
    return lambda: reconcile_named(runtime, namespace, name)
