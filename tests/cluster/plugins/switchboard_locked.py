"""A third-party plugin for the cluster tests, installed the way a stranger's is (an entry point in
a dist-info on the operator's path): its integrations can never be removed."""

from __future__ import annotations

from switchboard.models.records import IntegrationRecord, Registration, ToolDefinition, ToolSet
from switchboard.plugins.contract import BasePlugin, PluginContext, RegistrationRequest


class LockedPlugin(BasePlugin):
    id = "locked"

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        names = list(request.config.get("tools") or ["ping"])
        record = IntegrationRecord(
            tenant=request.tenant,
            slug=request.slug,
            kind=self.id,
            name=request.name or request.slug,
            description=request.description or "",
            config=dict(request.config),
            can_remove=False,
        )
        return Registration(
            record=record, toolset=ToolSet(tools=[ToolDefinition(name=n) for n in names])
        )


plugin = LockedPlugin()
