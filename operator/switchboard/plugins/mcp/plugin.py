"""The MCP plugin (registration of the endpoint; discovery lands with the MCP issue)."""

from __future__ import annotations

from switchboard.errors import InvalidSpecError
from switchboard.models.records import Registration
from switchboard.plugins.contract import BasePlugin, PluginContext, RegistrationRequest


class McpPlugin(BasePlugin):
    id = "mcp"
    order = 20

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        raise InvalidSpecError("the MCP plugin is not available yet", field="spec.kind")


plugin = McpPlugin()
