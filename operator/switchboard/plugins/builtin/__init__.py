"""The built-in `switchboard` integration: always in the catalog, never removable, static tools."""

from __future__ import annotations

from switchboard.errors import InvalidSpecError
from switchboard.models.records import Registration, StaticIntegration, ToolDefinition
from switchboard.plugins.contract import BasePlugin, PluginContext, RegistrationRequest

BUILTIN_SLUG = "switchboard"

_SLUG_INPUT = {
    "type": "object",
    "properties": {"slug": {"type": "string", "description": "The integration slug."}},
    "required": ["slug"],
    "additionalProperties": False,
}
_STATIC_TOOLS = [
    ToolDefinition(
        name="integrations.list",
        description="List the integrations in the catalog, built-in ones first.",
        input_schema=None,
    ),
    ToolDefinition(
        name="integrations.get",
        description="Get one integration's public projection: auth methods, display URL, flags.",
        input_schema=_SLUG_INPUT,
    ),
    ToolDefinition(
        name="integrations.detect",
        description="Detect what kind of API is behind a URL (OpenAPI, GraphQL, MCP, ...).",
        input_schema={
            "type": "object",
            "properties": {"url": {"type": "string", "maxLength": 2048}},
            "required": ["url"],
            "additionalProperties": False,
        },
    ),
    ToolDefinition(
        name="connections.list",
        description="List connections and their tool addresses.",
        input_schema=None,
    ),
]


class BuiltinPlugin(BasePlugin):
    """Owns the `switchboard` entry; manifests cannot declare `kind: built-in`."""

    id = "builtin"
    order = 0

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        raise InvalidSpecError(
            "the built-in integration is always present and cannot be declared", field="spec.kind"
        )

    def static_tools(self) -> list[ToolDefinition]:
        return list(_STATIC_TOOLS)

    def static_integration(self) -> StaticIntegration:
        return StaticIntegration(
            slug=BUILTIN_SLUG,
            name="Switchboard",
            description="Switchboard's own tools: list, inspect and detect integrations.",
            tools=self.static_tools(),
        )


plugin = BuiltinPlugin()
