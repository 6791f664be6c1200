"""Registering an integration: resolve its plugin and slug, then run the plugin's registration."""

from __future__ import annotations

import dataclasses
from typing import Any

from switchboard.catalog.detecting import Detection, detect
from switchboard.catalog.prefetching import PrefetchedDocuments
from switchboard.catalog.slugs import validate_slug
from switchboard.errors import (
    DetectionIncompleteError,
    InvalidSpecError,
    NothingDetectedError,
    SwitchboardError,
)
from switchboard.models.integration import Integration
from switchboard.models.records import IntegrationRecord, Registration
from switchboard.plugins.contract import Plugin, PluginContext, RegistrationRequest
from switchboard.plugins.registry import PluginRegistry

BUILTIN_KINDS = ("openapi", "graphql", "mcp")
AUTO = "auto"


def resolve_slug(resource: Integration) -> str:
    """The slug, validated; the message names the field it came from."""
    field = "spec.slug" if resource.spec.slug else "metadata.name"
    return validate_slug(resource.slug, field=field)


def detected_config(kind: str, endpoint: str) -> dict[str, Any]:
    """The configuration a detected kind is registered with, built from its endpoint."""
    if kind == "openapi":
        return {"source": {"url": endpoint}}
    if kind == "graphql":
        return {"endpoint": endpoint}
    if kind == "mcp":
        return {"transport": "remote", "endpoint": endpoint}
    return {"url": endpoint}


def plugin_config(
    resource: Integration, kind: str, detection: Detection | None = None
) -> dict[str, Any]:
    """The kind's sub-object in document form: `spec.<kind>`, or `spec.config` for plugin kinds;
    with `kind: auto` and no sub-object, one built from the detected endpoint."""
    spec = resource.spec
    sub = getattr(spec, kind, None) if kind in BUILTIN_KINDS else spec.config
    if sub is None and detection is not None and spec.kind == AUTO:
        found = detection.result_for(kind)
        return detected_config(kind, found.endpoint if found is not None else detection.url)
    if sub is None:
        where = f"spec.{kind}" if kind in BUILTIN_KINDS else "spec.config"
        raise InvalidSpecError(f"required when kind is {kind!r}", field=where)
    if isinstance(sub, dict):
        return sub
    dumped: dict[str, Any] = sub.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def resolve_plugin(
    resource: Integration, registry: PluginRegistry, detection: Detection | None = None
) -> Plugin:
    """The owning plugin: the pinned kind's, or with `kind: auto` the best detection's."""
    kind = resource.spec.kind
    if kind == "builtin" or kind == "built-in":
        raise InvalidSpecError("the built-in integration cannot be declared", field="spec.kind")
    if kind != AUTO:
        return registry.get(kind)
    if detection is None:
        raise InvalidSpecError("required when kind is 'auto'", field="spec.auto")
    if detection.best is None:
        raise nothing_detected(detection)
    return registry.get(detection.best.kind)


def nothing_detected(detection: Detection) -> SwitchboardError:
    """Nothing recognized the URL: permanent when every detector answered, else temporary."""
    failed = [d.plugin for d in detection.detectors if d.outcome in ("timeout", "error")]
    if failed:
        return DetectionIncompleteError(
            f"no plugin recognized the URL; {', '.join(failed)} could not answer in time or "
            "failed (retrying)",
            field="spec.auto.url",
        )
    return NothingDetectedError(
        "no plugin recognized the URL as an API; pin `spec.kind` and its configuration instead",
        field="spec.auto.url",
    )


async def detect_resource(
    resource: Integration, registry: PluginRegistry, ctx: PluginContext
) -> Detection | None:
    """Detection of `spec.auto.url`, when given: it picks the plugin of a `kind: auto`, and
    verifies a pinned kind. Raises only for a URL that cannot be detected or is refused."""
    auto = resource.spec.auto
    if auto is None:
        if resource.spec.kind == AUTO:
            raise InvalidSpecError("required when kind is 'auto'", field="spec.auto")
        return None
    return await detect(auto.url, registry, ctx, field="spec.auto.url", keep_documents=True)


async def register(
    resource: Integration,
    registry: PluginRegistry,
    ctx: PluginContext,
    *,
    previous: IntegrationRecord | None,
    detection: Detection | None = None,
) -> Registration:
    """Run the owning plugin's registration for `resource` (the upsert itself is the caller's).
    Documents detection already read are served from memory, not fetched again."""
    slug = resolve_slug(resource)
    plugin = resolve_plugin(resource, registry, detection)
    if detection is not None and detection.documents:
        prefetched = PrefetchedDocuments(ctx.documents, detection.documents)
        ctx = dataclasses.replace(ctx, documents=prefetched)
    request = RegistrationRequest(
        tenant=resource.tenant,
        slug=slug,
        config=plugin_config(resource, plugin.id, detection),
        name=resource.spec.name,
        description=resource.spec.description,
        resource=resource.metadata.name,
        previous=previous,
    )
    registration = await plugin.register(request, ctx)
    registration.record.resource = resource.metadata.name
    return registration
