"""Freshness: a watcher hears `notifications/tools/list_changed` (2026-07-28 `subscriptions/listen`
and the older per-session notification) and calls back, so the caller can re-discover."""

from __future__ import annotations

import anyio

from plugins.mcp.servers import LegacyOnly, demo_server, serve, streamable
from switchboard.models.records import IntegrationRecord
from switchboard.plugins.contract import PluginContext, RegistrationRequest
from switchboard.plugins.mcp.discovering import RemoteTarget, connect
from switchboard.plugins.mcp.plugin import McpPlugin
from switchboard.plugins.mcp.wiring import factory_for


async def _register(
    plugin: McpPlugin, url: str, ctx: PluginContext
) -> tuple[IntegrationRecord, int]:
    request = RegistrationRequest(
        tenant="acme", slug="demo", config={"transport": "remote", "endpoint": url}
    )
    registration = await plugin.register(request, ctx)
    return registration.record, len(registration.toolset.tools)


async def _watch_and_grow(url: str, ctx: PluginContext) -> tuple[int, int, int]:
    plugin = McpPlugin()
    record, before = await _register(plugin, url, ctx)
    changed = anyio.Event()
    calls = 0

    async def on_change() -> None:
        nonlocal calls
        calls += 1
        changed.set()

    ready = anyio.Event()
    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: plugin.watch(record, ctx, on_change, ready=ready))
            await ready.wait()
            # Another client changes the server's tools; the watcher must hear of it.
            target = RemoteTarget(url=url)
            async with connect(target, factory_for(ctx), kind="streamable-http") as other:
                await other.call_tool("grow", {})
            await changed.wait()
            group.cancel_scope.cancel()
    _, after = await _register(plugin, url, ctx)
    return before, after, calls


async def test_a_modern_server_announces_changes_through_listen(ctx: PluginContext) -> None:
    with serve(streamable(demo_server())) as running:
        before, after, calls = await _watch_and_grow(f"{running.base}/mcp", ctx)
    assert calls >= 1
    assert after == before + 1


async def test_the_capability_is_recorded(ctx: PluginContext) -> None:
    with serve(LegacyOnly(streamable(demo_server()))) as running:
        request = RegistrationRequest(
            tenant="acme",
            slug="demo",
            config={"transport": "remote", "endpoint": f"{running.base}/mcp"},
        )
        registration = await McpPlugin().register(request, ctx)
    assert registration.details["protocolVersion"] != "2026-07-28"
    assert isinstance(registration.details["announcesToolChanges"], bool)
