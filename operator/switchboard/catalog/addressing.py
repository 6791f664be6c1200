"""Tool addresses (`tools.<integration>.<owner>.<connection>.<tool>`, reference §11) and the tool
listing that joins each connection with its integration's shared tools.

Spec-derived tools are stored once per integration (gap 10: the reference copies them into every
connection); a connection's address shows them beside the tools that are its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.catalog.ports import CatalogStore, ConnectionStore
from switchboard.models.records import StoredTool
from switchboard.models.views import ToolView

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


def _view(stored: StoredTool, address: str, owner: str, subject: str, connection: str) -> ToolView:
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
) -> list[ToolView]:
    """Every tool of every ready connection, addressed: the integration's shared tools plus the
    connection's own, sorted by address (then subject: two users may share a connection name)."""
    shared: dict[tuple[str, str], list[StoredTool]] = {}
    own: dict[tuple[str, str, str, str, str], list[StoredTool]] = {}
    for stored in catalog.tools(tenant, integration):
        if stored.connection:
            key = (stored.tenant, stored.owner, stored.subject, stored.integration)
            own.setdefault((*key, stored.connection), []).append(stored)
        else:
            shared.setdefault((stored.tenant, stored.integration), []).append(stored)
    views: list[ToolView] = []
    for row in connections.list_connections(tenant, integration):
        if not row.ready:
            continue
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
    views.sort(key=lambda v: (v.address, v.subject or ""))
    return views


def unbound_integrations(
    catalog: CatalogStore,
    connections: ConnectionStore,
    tenant: str | None = None,
    integration: str | None = None,
) -> list[str]:
    """`tenant/slug` of integrations that have tools but no ready connection to call them with."""
    bound = {(c.tenant, c.integration) for c in connections.list_connections(tenant) if c.ready}
    return sorted(
        f"{r.tenant}/{r.slug}"
        for r in catalog.list_integrations(tenant)
        if integration in (None, r.slug)
        and (r.tenant, r.slug) not in bound
        and catalog.tool_names(r.tenant, r.slug)
    )
