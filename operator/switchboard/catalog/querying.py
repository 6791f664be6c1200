"""Catalog reads and the small set of direct edits: list (static first), get, update, remove."""

from __future__ import annotations

from switchboard.catalog.ports import CatalogStore, WriteBatch
from switchboard.errors import (
    IntegrationNotFoundError,
    IntegrationRemovalNotAllowedError,
    UnknownKindError,
)
from switchboard.models.records import IntegrationRecord, StaticIntegration
from switchboard.models.views import IntegrationView, ToolView
from switchboard.plugins.registry import PluginRegistry


def static_integrations(registry: PluginRegistry) -> list[StaticIntegration]:
    """Built-in entries supplied by plugins that have them (the `switchboard` one)."""
    out = []
    for plugin in registry:
        make = getattr(plugin, "static_integration", None)
        if callable(make):
            entry = make()
            if isinstance(entry, StaticIntegration):
                out.append(entry)
    return out


def project(record: IntegrationRecord, registry: PluginRegistry) -> IntegrationView:
    """The public view of a stored record; a plugin that cannot describe it gives `[]`."""
    auth_methods = []
    display_url = None
    try:
        plugin = registry.get(record.kind)
    except UnknownKindError:
        plugin = None
    if plugin is not None:
        try:
            auth_methods = plugin.describe_auth_methods(record.config)
            display_url = plugin.describe_display(record.config) or None
        except (ValueError, TypeError, KeyError, AttributeError):
            auth_methods = []
    return IntegrationView(
        slug=record.slug,
        name=record.name,
        description=record.description,
        kind=record.kind,
        can_remove=record.can_remove,
        can_refresh=record.can_refresh,
        auth_methods=auth_methods,
        display_url=display_url,
        tenant=record.tenant,
    )


def project_static(entry: StaticIntegration) -> IntegrationView:
    return IntegrationView(
        slug=entry.slug,
        name=entry.name,
        description=entry.description,
        kind=entry.kind,
        can_remove=entry.can_remove,
        can_refresh=entry.can_refresh,
        auth_methods=[],
    )


class Catalog:
    """The catalog as users see it: static entries first, then the mirror's rows."""

    def __init__(self, store: CatalogStore, registry: PluginRegistry) -> None:
        self.store = store
        self.registry = registry

    def list_integrations(self, tenant: str | None = None) -> list[IntegrationView]:
        statics = [project_static(s) for s in static_integrations(self.registry)]
        return statics + [project(r, self.registry) for r in self.store.list_integrations(tenant)]

    def get(self, tenant: str, slug: str) -> IntegrationView:
        for entry in static_integrations(self.registry):
            if entry.slug == slug:
                return project_static(entry)
        record = self.store.get(tenant, slug)
        if record is None:
            raise IntegrationNotFoundError(slug)
        return project(record, self.registry)

    def update(
        self, tenant: str, slug: str, *, name: str | None = None, description: str | None = None
    ) -> IntegrationView:
        """Only `name` and `description` change here; a static entry has no row (not found)."""
        record = self.store.update_text(tenant, slug, name=name, description=description)
        if record is None:
            raise IntegrationNotFoundError(slug)
        return project(record, self.registry)

    def remove(self, tenant: str, slug: str) -> None:
        """Remove with its connections, tools and definitions. Unlike the reference, an unknown
        slug is an error, and a static or `canRemove: false` entry is refused."""
        if any(s.slug == slug for s in static_integrations(self.registry)):
            raise IntegrationRemovalNotAllowedError(slug)
        record = self.store.get(tenant, slug)
        if record is None:
            raise IntegrationNotFoundError(slug)
        if not record.can_remove:
            raise IntegrationRemovalNotAllowedError(slug)
        self.store.apply(WriteBatch(removals=[(tenant, slug)]))

    def tools(self, tenant: str | None = None, integration: str | None = None) -> list[ToolView]:
        views: list[ToolView] = []
        for entry in static_integrations(self.registry):
            if integration in (None, entry.slug):
                views.extend(
                    ToolView(
                        address=f"{entry.slug}.{tool.name}",
                        integration=entry.slug,
                        name=tool.name,
                        description=tool.description,
                        input_schema=tool.input_schema,
                    )
                    for tool in entry.tools
                )
        for stored in self.store.tools(tenant, integration):
            tool = stored.tool
            if stored.connection:
                address = (
                    f"tools.{stored.integration}.{stored.owner}.{stored.connection}.{tool.name}"
                )
            else:
                address = f"{stored.integration}.{tool.name}"
            views.append(
                ToolView(
                    address=address,
                    integration=stored.integration,
                    name=tool.name,
                    description=tool.description,
                    requires_approval=bool(tool.annotations.get("requiresApproval")),
                    input_schema=tool.input_schema,
                    output_schema=tool.output_schema,
                )
            )
        return views
