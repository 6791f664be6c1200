"""Reading and writing our objects in a cluster: API paths, models from bodies (naming the field a
bad spec got wrong), status patches through the status subresource, and Events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

import kopf
from pydantic import BaseModel, ValidationError

from switchboard.errors import InvalidSpecError
from switchboard.handlers.runtime import GROUP, REFRESH_ANNOTATION, VERSION, Runtime
from switchboard.models.meta import ObjectMeta
from switchboard.storage.kubernetes import merge_patch

META_FIELDS = ("name", "namespace", "generation", "uid", "resourceVersion", "labels", "annotations")
Status = TypeVar("Status", bound=BaseModel)


def object_path(plural: str, namespace: str, name: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}/{name}"


def invalid_spec(exc: ValidationError, *, prefix: str = "") -> InvalidSpecError:
    """The first validation error, naming its field (`spec.openapi.source`)."""
    first = exc.errors()[0]
    where = prefix + ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidSpecError(message, field=where.rstrip(".") or "spec")


def read_meta(body: Mapping[str, Any]) -> ObjectMeta:
    """The metadata Switchboard reads (not managedFields and the rest)."""
    raw = body.get("metadata") or {}
    return ObjectMeta.model_validate({k: raw[k] for k in META_FIELDS if k in raw})


def read_status(model: type[Status], raw: object) -> Status | None:
    """The previous status; one written by an older or newer operator that no longer validates
    must not block a reconcile, so it reads as none."""
    try:
        return model.model_validate(raw) if raw else None
    except ValidationError:
        return None


def refresh_requested(meta: ObjectMeta, handled: str | None) -> str | None:
    """The `switchboard.dev/refresh-requested-at` value when it has not been acted on yet."""
    requested = (meta.annotations or {}).get(REFRESH_ANNOTATION)
    return requested if requested is not None and requested != handled else None


def post_event(body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    """A Kubernetes Event on the object (kopf queues and posts it in the background)."""
    target = kopf.Body(cast(kopf.RawBody, dict(body)))
    kopf.event(target, type=type_, reason=reason, message=message)


async def write_status(
    runtime: Runtime,
    plural: str,
    body: Mapping[str, Any],
    status: dict[str, Any],
    events: list[tuple[str, str, str]],
) -> None:
    """Patch what changed in status (nothing at all on a no-op) and post the Events."""
    old = body.get("status")
    patch = merge_patch(old if isinstance(old, Mapping) else None, status)
    meta = body.get("metadata") or {}
    if patch:
        await runtime.kube.patch_status(
            object_path(plural, meta.get("namespace") or "default", meta["name"]), patch
        )
    for type_, reason, message in events:
        post_event(body, type_, reason, message)
