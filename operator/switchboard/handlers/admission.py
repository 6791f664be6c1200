"""The validating admission webhook: refuse at `kubectl apply` time what needs no network I/O to
judge (schema rules the CRD cannot express, slugs taken or reserved, sources that exist only in
file mode, deleting an integration that cannot be removed). Everything else is the reconcile's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf
from pydantic import ValidationError

from switchboard.catalog.connections import connection_key
from switchboard.catalog.registering import plugin_config, resolve_slug
from switchboard.errors import IntegrationAlreadyExistsError, SwitchboardError
from switchboard.handlers.objects import invalid_spec
from switchboard.handlers.runtime import GROUP, VERSION, Runtime
from switchboard.models.connection import Connection, ConnectionKey, ConnectionSpec
from switchboard.models.integration import Integration, IntegrationSpec
from switchboard.models.meta import ObjectMeta

DENIED = 422
"""HTTP status in the refusal: the object is unprocessable as written."""
AUTO_KIND = "auto"
SOURCE_KEYS = {"file", "url", "inline", "configMapRef"}


def _deny(error: SwitchboardError) -> kopf.AdmissionError:
    return kopf.AdmissionError(str(error), code=DENIED)


def file_sources(spec: Any, path: str = "spec") -> list[str]:
    """Fields holding a repository-relative `file` source: meaningless in a cluster."""
    found: list[str] = []
    if isinstance(spec, Mapping):
        # A document source has only these keys; a plugin's own `file` setting is left alone.
        if isinstance(spec.get("file"), str) and set(spec) <= SOURCE_KEYS:
            found.append(f"{path}.file")
        for key, value in spec.items():
            if key != "file":
                found.extend(file_sources(value, f"{path}.{key}"))
    elif isinstance(spec, list):
        for index, value in enumerate(spec):
            found.extend(file_sources(value, f"{path}[{index}]"))
    return found


def check_integration(
    body: Mapping[str, Any], runtime: Runtime, slugs: kopf.Index[tuple[str, str], str]
) -> None:
    """Raise `kopf.AdmissionError` naming the field when the object cannot be right."""
    raw_meta = body.get("metadata") or {}
    meta = ObjectMeta.model_validate(
        {"name": raw_meta.get("name") or "unnamed", "namespace": raw_meta.get("namespace")}
    )
    try:
        spec = IntegrationSpec.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        raise _deny(invalid_spec(exc, prefix="spec.")) from exc
    resource = Integration(metadata=meta, spec=spec)
    for field in file_sources(body.get("spec")):
        raise kopf.AdmissionError(
            f"{field}: file sources are only available in file mode (`switchboard reconcile`); "
            "in a cluster use inline, url or configMapRef",
            code=DENIED,
        )
    try:
        slug = resolve_slug(resource)
        if spec.kind != AUTO_KIND:
            plugin = runtime.app.registry.get(spec.kind)
            plugin_config(resource, plugin.id)
    except SwitchboardError as exc:
        raise _deny(exc) from exc
    holders = set(slugs.get((resource.tenant, slug), ())) - {meta.name}
    if holders:
        raise _deny(IntegrationAlreadyExistsError(slug, owner=sorted(holders)[0]))


def check_removal(old: Mapping[str, Any] | None) -> None:
    """Deleting an integration whose plugin says it cannot be removed is refused up front (the
    finalizer refuses too, for clusters where the webhook is not installed)."""
    status = (old or {}).get("status") or {}
    if status.get("canRemove") is False:
        slug = status.get("slug") or (old or {}).get("metadata", {}).get("name")
        raise kopf.AdmissionError(
            f"integration {slug!r} cannot be removed (status.canRemove: false)", code=403
        )


@kopf.index(GROUP, VERSION, "integrations")
def integration_slugs(
    namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any
) -> dict[tuple[str | None, str], str]:
    """(namespace, slug) → the objects declaring it: the claimed slug (status) and the wanted
    one (spec or name), so a rename holds both until it is reconciled."""
    wanted = spec.get("slug") or name.replace("-", "_").replace(".", "_")
    claimed = status.get("slug")
    return {(namespace, slug): name for slug in {wanted, claimed} if slug}


@kopf.on.validate(
    GROUP,
    VERSION,
    "integrations",
    id="validate-integration",  # the URL path: a Service path allows no `_`
    operations=["CREATE", "UPDATE", "DELETE"],
)
def validate_integration(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    # kopf passes the operation, the old object and the indices by name.
    operation, old = kwargs["operation"], kwargs.get("old")
    if operation == "DELETE":
        check_removal(old)
        return
    if operation == "UPDATE" and old is not None and old.get("spec") == body.get("spec"):
        return  # metadata only (labels, kopf's finalizer and annotations): never blocked
    check_integration(
        body, memo.runtime, kwargs["integration_slugs"]
    )  # kopf passes indices by name


def check_connection(
    body: Mapping[str, Any], runtime: Runtime, keys: kopf.Index[tuple[str, ConnectionKey], str]
) -> None:
    """Schema rules the CRD cannot express, file-mode credential sources, and a second object
    declaring the same connection (owner, integration and name) in the namespace."""
    raw_meta = body.get("metadata") or {}
    meta = ObjectMeta.model_validate(
        {"name": raw_meta.get("name") or "unnamed", "namespace": raw_meta.get("namespace")}
    )
    try:
        spec = ConnectionSpec.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        raise _deny(invalid_spec(exc, prefix="spec.")) from exc
    resource = Connection(metadata=meta, spec=spec)
    credentials = spec.credentials
    if credentials is not None and (credentials.env is not None or credentials.files is not None):
        try:
            runtime.credentials(resource.tenant, credentials)  # refuses file-mode sources
        except SwitchboardError as exc:
            raise _deny(exc) from exc
    key = connection_key(resource)
    holders = set(keys.get((resource.tenant, key), ())) - {meta.name}
    if holders:
        owner = f"{key.owner} {key.subject}".strip()
        raise kopf.AdmissionError(
            f"spec: connection {key.address} (owner {owner}) is already declared by "
            f"{sorted(holders)[0]}",
            code=DENIED,
        )


@kopf.index(GROUP, VERSION, "connections")
def connection_keys(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[tuple[str | None, ConnectionKey], str]:
    try:
        parsed = ConnectionSpec.model_validate(dict(spec))
    except ValidationError:
        return {}
    meta = ObjectMeta(name=name, namespace=namespace)
    return {(namespace, connection_key(Connection(metadata=meta, spec=parsed))): name}


@kopf.on.validate(
    GROUP,
    VERSION,
    "connections",
    id="validate-connection",
    operations=["CREATE", "UPDATE"],
)
def validate_connection(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    old = kwargs.get("old")
    if kwargs["operation"] == "UPDATE" and old is not None and old.get("spec") == body.get("spec"):
        return  # metadata only (labels, kopf's finalizer and annotations): never blocked
    check_connection(body, memo.runtime, kwargs["connection_keys"])
