"""Detection: `high` on a real discovery or a positive shape probe (an auth-required server
included), `low` on the `mcp` URL token (reference case 38), else nothing; with evidence."""

from __future__ import annotations

from harness.http import LoopbackServer, Reply
from plugins.mcp.servers import BearerGate, Running, demo_server, serve, streamable
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.mcp.plugin import McpPlugin


async def test_a_real_server_is_high(demo: Running, ctx: PluginContext) -> None:
    url = f"  {demo.base}/mcp "
    result = await McpPlugin().detect(url, ctx)
    assert result is not None
    assert (result.kind, result.confidence) == ("mcp", "high")
    assert result.endpoint == f"{demo.base}/mcp"
    assert result.name == "127.0.0.1"
    assert result.slug == "mcp_127_0_0_1"
    assert result.evidence == {
        "probe": "discovery",
        "transport": "streamable-http",
        "toolCount": 4,
        "serverName": "Demo Server",
    }


async def test_an_auth_required_server_is_high_by_its_shape(ctx: PluginContext) -> None:
    with serve(BearerGate(streamable(demo_server()))) as running:
        result = await McpPlugin().detect(f"{running.base}/v1", ctx)
    assert result is not None and result.confidence == "high"
    assert result.evidence is not None
    assert result.evidence["probe"] == "mcp/bearer-resource-metadata"
    assert result.evidence["status"] == 401
    assert result.evidence["contentType"] == "application/json"
    assert result.evidence["discovery"] == "Unauthorized"


async def test_case_38_refused_urls_fall_back_to_the_url_token(ctx: PluginContext) -> None:
    plugin = McpPlugin()
    low = await plugin.detect("http://127.0.0.1:1/api/mcp", ctx)
    assert low is not None and low.confidence == "low"
    assert low.evidence is not None and low.evidence["urlToken"] == "mcp"
    assert await plugin.detect("http://127.0.0.1:1/mcpstore", ctx) is None
    assert await plugin.detect("http://127.0.0.1:1/api/v1", ctx) is None


async def test_a_json_api_is_not_mcp(http_server: LoopbackServer, ctx: PluginContext) -> None:
    http_server.routes["/api"] = Reply(200, b'{"ok":true}', {"content-type": "application/json"})
    assert await McpPlugin().detect(f"{http_server.url}/api", ctx) is None


async def test_not_a_url(ctx: PluginContext) -> None:
    plugin = McpPlugin()
    assert await plugin.detect("", ctx) is None
    assert await plugin.detect("ftp://x/mcp", ctx) is None
    assert await plugin.detect("github", ctx) is None


async def test_the_policy_is_respected_during_detection(
    demo: Running, public_ctx: PluginContext, http_server: LoopbackServer
) -> None:
    """Loopback is refused by default: nothing is sent, only the token can speak."""
    before = len(http_server.requests)
    assert await McpPlugin().detect(f"{http_server.url}/x", public_ctx) is None
    assert len(http_server.requests) == before
    result = await McpPlugin().detect(f"{demo.base}/mcp", public_ctx)
    assert result is not None and result.confidence == "low"
    assert result.evidence == {"discovery": "URLNotAllowed", "urlToken": "mcp"}
