"""Bad input and misbehaving servers: an HTTP endpoint that is not MCP, HTML, malformed
JSON-RPC, a server that hangs after initialize (the deadline holds), 10,000 tools, a cursor that
never ends. Each ends in a clear error or condition, never a hang or a crash."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from harness.http import LoopbackServer, Reply, Seen
from plugins.mcp.servers import hanging_server, paged_server, serve, streamable
from switchboard.errors import InvalidSpecError, NotAnMcpServerError
from switchboard.models.records import IntegrationRecord
from switchboard.plugins.contract import PluginContext, RegistrationRequest
from switchboard.plugins.mcp.plugin import McpPlugin


def request(
    config: dict[str, Any], previous: IntegrationRecord | None = None
) -> RegistrationRequest:
    return RegistrationRequest(tenant="acme", slug="bad", config=config, previous=previous)


def remote(url: str) -> dict[str, Any]:
    return {"transport": "remote", "endpoint": url}


async def test_a_json_api_that_is_not_mcp(http_server: LoopbackServer, ctx: PluginContext) -> None:
    http_server.routes["/api"] = Reply(200, b'{"ok": true}', {"content-type": "application/json"})
    with pytest.raises(NotAnMcpServerError) as caught:
        await McpPlugin().register(request(remote(f"{http_server.url}/api")), ctx)
    assert caught.value.field == "spec.mcp.endpoint"
    assert "wrong-shape" in str(caught.value)


async def test_an_html_page(http_server: LoopbackServer, ctx: PluginContext) -> None:
    http_server.routes["/"] = Reply(
        200, b"<html><body>hi</body></html>", {"content-type": "text/html"}
    )
    with pytest.raises(NotAnMcpServerError):
        await McpPlugin().register(request(remote(f"{http_server.url}/")), ctx)


async def test_a_page_that_stops_being_mcp_keeps_the_last_tools(
    http_server: LoopbackServer, ctx: PluginContext
) -> None:
    """A maintenance page in front of a server that worked: not a reason to wipe its tools."""
    http_server.routes["/mcp"] = Reply(200, b"<h1>maintenance</h1>", {"content-type": "text/html"})
    previous = IntegrationRecord(tenant="acme", slug="bad", kind="mcp", name="x")
    registration = await McpPlugin().register(
        request(remote(f"{http_server.url}/mcp"), previous), ctx
    )
    assert registration.toolset.incomplete
    reached = {c.type: c.status for c in registration.conditions}
    assert reached["Reachable"] == "True" and reached["ToolsDiscovered"] == "False"


async def test_malformed_json_rpc(http_server: LoopbackServer, ctx: PluginContext) -> None:
    """Looks like JSON-RPC to the probe, but the SDK cannot complete a handshake with it."""

    def answer(seen: Seen) -> Reply:
        asked = orjson.loads(seen.body) if seen.body else {}
        result = {"protocolVersion": 7, "capabilities": "no", "supportedVersions": "?"}
        body = orjson.dumps({"jsonrpc": "2.0", "id": asked.get("id"), "result": result})
        return Reply(200, body, {"content-type": "application/json"})

    http_server.routes["/mcp"] = answer
    registration = await McpPlugin(discovery_deadline=5).register(
        request(remote(f"{http_server.url}/mcp")), ctx
    )
    assert registration.toolset.incomplete
    conditions = {c.type: (c.status, c.reason) for c in registration.conditions}
    assert conditions["ToolsDiscovered"] == ("False", "ProtocolError")
    assert registration.details["probe"]["probe"] == "mcp/jsonrpc"


async def test_truncated_json(http_server: LoopbackServer, ctx: PluginContext) -> None:
    http_server.routes["/mcp"] = Reply(
        200, b'{"jsonrpc": "2.0", "id": 1, "res', {"content-type": "application/json"}
    )
    with pytest.raises(NotAnMcpServerError):
        await McpPlugin(discovery_deadline=5).register(
            request(remote(f"{http_server.url}/mcp")), ctx
        )


async def test_a_server_that_hangs_after_initialize_meets_the_deadline(ctx: PluginContext) -> None:
    with serve(streamable(hanging_server())) as running:
        started = time.monotonic()
        registration = await McpPlugin(discovery_deadline=1.5, probe_timeout=2).register(
            request(remote(f"{running.base}/mcp")), ctx
        )
        elapsed = time.monotonic() - started
    assert registration.toolset.incomplete
    conditions = {c.type: (c.status, c.reason) for c in registration.conditions}
    assert conditions["ToolsDiscovered"] == ("False", "Timeout")
    assert conditions["Reachable"] == ("True", "Answered")  # the probe saw it answer initialize
    assert elapsed < 10


async def test_ten_thousand_tools(ctx: PluginContext) -> None:
    with serve(streamable(paged_server(10_000, 10_000))) as running:
        registration = await McpPlugin().register(request(remote(f"{running.base}/mcp")), ctx)
    assert len(registration.toolset.tools) == 10_000
    assert len({t.name for t in registration.toolset.tools}) == 10_000


async def test_a_cursor_that_never_ends(ctx: PluginContext) -> None:
    with serve(streamable(paged_server(20, 5, loop_cursor=True))) as running:
        registration = await McpPlugin().register(request(remote(f"{running.base}/mcp")), ctx)
    assert registration.toolset.incomplete
    reasons = {c.type: c.reason for c in registration.conditions}
    assert reasons["ToolsDiscovered"] == "PaginationLoop"


async def test_an_answer_over_the_size_cap(ctx: PluginContext) -> None:
    small = PluginContext(
        documents=ctx.documents,
        http=ctx.http,
        client_factory=ctx.client_factory,
        max_spec_bytes=50_000,
    )
    with serve(streamable(paged_server(2_000, 2_000))) as running:
        registration = await McpPlugin().register(request(remote(f"{running.base}/mcp")), small)
    reasons = {c.type: c.reason for c in registration.conditions}
    assert reasons["ToolsDiscovered"] in ("TooLarge", "ProtocolError")
    assert registration.toolset.incomplete


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"transport": "remote"}, "spec.mcp.endpoint"),
        ({"transport": "remote", "endpoint": "ftp://x/mcp"}, "spec.mcp.endpoint"),
        ({"transport": "stdio"}, "spec.mcp.command"),
        ({"transport": "carrier-pigeon"}, "spec.mcp.transport"),
        (
            {"transport": "remote", "endpoint": "http://x", "remoteTransport": "ws"},
            "spec.mcp.remoteTransport",
        ),
    ],
)
async def test_bad_fields_are_named(config: dict[str, Any], field: str, ctx: PluginContext) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        await McpPlugin().register(request(config), ctx)
    assert caught.value.field == field


def test_no_secret_in_a_failure_message() -> None:
    """Messages are static: the endpoint's query string (where a key may sit) is never quoted."""
    from switchboard.plugins.mcp.discovering import explain

    failure = explain(ConnectionRefusedError("http://h/mcp?key=SECRET"), "the MCP endpoint")
    assert "SECRET" not in str(failure)
    assert orjson.dumps(failure.reason) == b'"Unreachable"'
