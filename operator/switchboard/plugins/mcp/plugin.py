"""The MCP plugin: remote servers (streamable HTTP, SSE) and stdio commands, discovered with the
official SDK under the outbound policy; tools per integration, and per connection when the
server wants credentials; a watcher for `notifications/tools/list_changed`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from switchboard.errors import SwitchboardError
from switchboard.models.auth import AuthMethodDescriptor
from switchboard.models.detection import DetectionResult
from switchboard.models.records import IntegrationRecord, PluginCondition, Registration, ToolSet
from switchboard.plugins.contract import (
    BasePlugin,
    ConnectionRequest,
    PluginContext,
    RegistrationRequest,
)
from switchboard.plugins.mcp import auth, detecting
from switchboard.plugins.mcp.compiling import compile_tools
from switchboard.plugins.mcp.configuring import parse_stored, require_stdio_allowed, target_for
from switchboard.plugins.mcp.discovering import DiscoveryError, Target, discover
from switchboard.plugins.mcp.probing import PROBE_TIMEOUT
from switchboard.plugins.mcp.registering import register_server
from switchboard.plugins.mcp.watching import watch_tools
from switchboard.plugins.mcp.wiring import factory_for
from switchboard.plugins.templates import describe_all

DISCOVERY_DEADLINE = 30.0
"""Seconds for one whole discovery (connect, initialize, every tools/list page)."""


def _failed(reason: str, message: str) -> ToolSet:
    condition = PluginCondition(
        type="ToolsDiscovered", status="False", reason=reason, message=message
    )
    return ToolSet(incomplete=True, conditions=[condition])


class McpPlugin(BasePlugin):
    id = "mcp"
    order = 20

    def __init__(
        self,
        *,
        discovery_deadline: float = DISCOVERY_DEADLINE,
        probe_timeout: float = PROBE_TIMEOUT,
    ) -> None:
        self.discovery_deadline = discovery_deadline
        self.probe_timeout = probe_timeout

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        return await register_server(
            self.id,
            request,
            ctx,
            deadline=self.discovery_deadline,
            probe_timeout=self.probe_timeout,
        )

    def describe_auth_methods(self, config: Mapping[str, Any]) -> list[AuthMethodDescriptor]:
        return describe_all(config.get("authenticationTemplate"))

    def describe_display(self, config: Mapping[str, Any]) -> str | None:
        endpoint = config.get("endpoint")
        if config.get("transport") == "remote" and isinstance(endpoint, str) and endpoint:
            return endpoint
        return None

    def can_refresh(self, config: Mapping[str, Any]) -> bool:
        return config.get("transport") in ("remote", "stdio")

    async def detect(self, url: str, ctx: PluginContext) -> DetectionResult | None:
        return await detecting.detect(url, ctx)

    def _target(
        self,
        integration: IntegrationRecord,
        connection: ConnectionRequest | None,
        ctx: PluginContext,
    ) -> Target:
        spec = parse_stored(integration.config)
        require_stdio_allowed(spec, ctx)
        raw = integration.config.get("authenticationTemplate")
        template = auth.select(raw, connection.template) if connection is not None else None
        values = connection.values if connection is not None else {}
        return target_for(spec, template, values)

    async def resolve_tools(
        self,
        integration: IntegrationRecord,
        connection: ConnectionRequest,
        ctx: PluginContext,
    ) -> ToolSet:
        """Live discovery with the connection's credentials; a failure keeps the last tools."""
        try:
            target = self._target(integration, connection, ctx)
        except SwitchboardError as exc:
            return _failed(exc.reason, str(exc))
        try:
            found = await discover(target, factory_for(ctx), deadline=self.discovery_deadline)
        except DiscoveryError as failure:
            if failure.auth_required:
                return _failed(
                    "CredentialsRejected", "the server refused the connection's credentials"
                )
            return _failed(failure.reason, str(failure))
        return ToolSet(tools=compile_tools(found.tools))

    async def watch(
        self,
        integration: IntegrationRecord,
        ctx: PluginContext,
        on_change: Callable[[], Awaitable[None]],
        *,
        connection: ConnectionRequest | None = None,
        ready: anyio.Event | None = None,
    ) -> None:
        """Call `on_change` whenever the server says its tool list changed; the caller marks the
        integration (or connection) stale and re-discovers. Runs until cancelled or until the
        server goes away (`DiscoveryError`)."""
        target = self._target(integration, connection, ctx)
        await watch_tools(target, factory_for(ctx), on_change, ready=ready)


plugin = McpPlugin()
