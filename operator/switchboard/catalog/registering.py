"""Registering an integration: resolve its plugin and slug, then run the plugin's registration."""

from __future__ import annotations

from typing import Any

from switchboard.catalog.slugs import validate_slug
from switchboard.errors import InvalidSpecError
from switchboard.models.integration import Integration
from switchboard.models.records import IntegrationRecord, Registration
from switchboard.plugins.contract import Plugin, PluginContext, RegistrationRequest
from switchboard.plugins.registry import PluginRegistry

BUILTIN_KINDS = ("openapi", "graphql", "mcp")


def resolve_slug(resource: Integration) -> str:
    """The slug, validated; the message names the field it came from."""
    field = "spec.slug" if resource.spec.slug else "metadata.name"
    return validate_slug(resource.slug, field=field)


def plugin_config(resource: Integration, kind: str) -> dict[str, Any]:
    """The kind's sub-object in document form: `spec.<kind>`, or `spec.config` for plugin kinds."""
    spec = resource.spec
    sub = getattr(spec, kind, None) if kind in BUILTIN_KINDS else spec.config
    if sub is None:
        where = f"spec.{kind}" if kind in BUILTIN_KINDS else "spec.config"
        raise InvalidSpecError(f"required when kind is {kind!r}", field=where)
    if isinstance(sub, dict):
        return sub
    dumped: dict[str, Any] = sub.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def resolve_plugin(resource: Integration, registry: PluginRegistry) -> Plugin:
    kind = resource.spec.kind
    if kind == "builtin" or kind == "built-in":
        raise InvalidSpecError("the built-in integration cannot be declared", field="spec.kind")
    return registry.get(kind)


async def register(
    resource: Integration,
    registry: PluginRegistry,
    ctx: PluginContext,
    *,
    previous: IntegrationRecord | None,
) -> Registration:
    """Run the owning plugin's registration for `resource` (the upsert itself is the caller's)."""
    slug = resolve_slug(resource)
    plugin = resolve_plugin(resource, registry)
    request = RegistrationRequest(
        tenant=resource.tenant,
        slug=slug,
        config=plugin_config(resource, plugin.id),
        name=resource.spec.name,
        description=resource.spec.description,
        resource=resource.metadata.name,
        previous=previous,
    )
    registration = await plugin.register(request, ctx)
    registration.record.resource = resource.metadata.name
    return registration
