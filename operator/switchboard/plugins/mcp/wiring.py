"""The SDK-shaped client factory for a plugin context: the policy's `httpx` factory bridged to
`httpx2`, with the context's size cap."""

from __future__ import annotations

from switchboard.plugins.contract import PluginContext
from switchboard.plugins.mcp.bridging import BridgedFactory


def factory_for(ctx: PluginContext) -> BridgedFactory | None:
    """None when the top of the program wired no client factory (remote discovery then fails
    with `NoOutboundClient` rather than going around the policy)."""
    if ctx.client_factory is None:
        return None
    return BridgedFactory(ctx.client_factory, max_bytes=ctx.max_spec_bytes)
