"""The GraphQL plugin (lands with the GraphQL issue)."""

from __future__ import annotations

from switchboard.errors import InvalidSpecError
from switchboard.models.records import Registration
from switchboard.plugins.contract import BasePlugin, PluginContext, RegistrationRequest


class GraphqlPlugin(BasePlugin):
    id = "graphql"
    order = 30

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        raise InvalidSpecError("the GraphQL plugin is not available yet", field="spec.kind")


plugin = GraphqlPlugin()
