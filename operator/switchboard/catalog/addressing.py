"""Tool addresses (`tools.<integration>.<owner>.<connection>.<tool>`, reference §11) and the tool
listing that joins each connection with its integration's shared tools.

Spec-derived tools are stored once per integration (gap 10: the reference copies them into every
connection); a connection's address shows them beside the tools that are its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.catalog.ports import CatalogStore, ConnectionStore
from switchboard.catalog.querying import static_integrations
from switchboard.models.records import StoredTool
from switchboard.models.views import ToolView
from switchboard.plugins.registry import PluginRegistry

ROOT = "tools"
OWNERS = ("org", "user")


@dataclass(frozen=True)
class ToolAddress:
    """One dynamic tool's address; the tool part may contain dots."""

    integration: str
    owner: str
    connection: str
    tool: str

    def __str__(self) -> str:
        return format_tool_address(self.integration, self.owner, self.connection, self.tool)


def format_tool_address(integration: str, owner: str, connection: str, tool: str) -> str:
    return f"{ROOT}.{integration}.{owner}.{connection}.{tool}"


def parse_tool_address(text: str) -> ToolAddress | None:
    """The parts of `text`, or None when it is not a dynamic tool address: the prefix must be
    `tools`, the owner `org` or `user`, every part non-empty; the rest after the fourth dot is
    the tool name, dots included."""
    parts = text.split(".", 4)
    if len(parts) != 5 or parts[0] != ROOT:
        return None
    _, integration, owner, connection, tool = parts
    if owner not in OWNERS or not (integration and connection and tool):
        return None
    return ToolAddress(integration, owner, connection, tool)


def _view(
    stored: StoredTool, address: str, owner: str | None, subject: str, connection: str | None
) -> ToolView:
    tool = stored.tool
    return ToolView(
        address=address,
        integration=stored.integration,
        name=tool.name,
        description=tool.description,
        requires_approval=bool(tool.annotations.get("requiresApproval")),
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
        owner=owner,
        subject=subject or None,
        connection=connection,
    )


def connection_tools(
    catalog: CatalogStore,
    connections: ConnectionStore,
    tenant: str | None = None,
    integration: str | None = None,
    *,
    unbound: bool = True,
) -> list[ToolView]:
    """Every tool of every ready connection, addressed: the integration's shared tools plus the
    connection's own, sorted by address (then subject: two users may share a connection name).
    With `unbound`, an integration no ready connection uses still shows its shared tools, as
    `<integration>.<tool>` with no connection: what it offers, not yet callable."""
    shared: dict[tuple[str, str], list[StoredTool]] = {}
    own: dict[tuple[str, str, str, str, str], list[StoredTool]] = {}
    for stored in catalog.tools(tenant, integration):
        if stored.connection:
            key = (stored.tenant, stored.owner, stored.subject, stored.integration)
            own.setdefault((*key, stored.connection), []).append(stored)
        else:
            shared.setdefault((stored.tenant, stored.integration), []).append(stored)
    views: list[ToolView] = []
    bound: set[tuple[str, str]] = set()
    for row in connections.list_connections(tenant, integration):
        if not row.ready:
            continue
        bound.add((row.tenant, row.integration))
        tools = shared.get((row.tenant, row.integration), []) + own.get(
            (row.tenant, row.owner, row.subject, row.integration, row.name), []
        )
        views.extend(
            _view(
                stored,
                format_tool_address(row.integration, row.owner, row.name, stored.tool.name),
                row.owner,
                row.subject,
                row.name,
            )
            for stored in tools
        )
    if unbound:
        for (tenant_, slug), tools in shared.items():
            if (tenant_, slug) not in bound:
                views.extend(_view(t, f"{slug}.{t.tool.name}", None, "", None) for t in tools)
    views.sort(key=lambda v: (v.address, v.subject or ""))
    return views


def static_tools(registry: PluginRegistry, integration: str | None = None) -> list[ToolView]:
    """Built-in tools, addressed `<integration>.<tool>` (they need no connection)."""
    return [
        ToolView(
            address=f"{entry.slug}.{tool.name}",
            integration=entry.slug,
            name=tool.name,
            description=tool.description,
            input_schema=tool.input_schema,
        )
        for entry in static_integrations(registry)
        if integration in (None, entry.slug)
        for tool in entry.tools
    ]
