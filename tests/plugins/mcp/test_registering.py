"""Registration against real MCP servers on loopback: streamable HTTP and SSE, a bearer gate
(401 is reachable-and-needs-credentials, not a failure), pagination, list_changed during the
listing, and what is recorded (server name, instructions, counts only when current)."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.mcp.servers import (
    OPEN,
    TOKEN,
    BearerGate,
    LegacyOnly,
    Running,
    demo_server,
    notifying_server,
    paged_server,
    serve,
    sse_app,
    streamable,
)
from switchboard.errors import URLNotAllowedError
from switchboard.models.records import IntegrationRecord, Registration
from switchboard.plugins.contract import PluginContext, RegistrationRequest
from switchboard.plugins.mcp.plugin import McpPlugin


def request(
    config: dict[str, Any], previous: IntegrationRecord | None = None
) -> RegistrationRequest:
    return RegistrationRequest(tenant="acme", slug="demo", config=config, previous=previous)


def conditions(registration: Registration) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in registration.conditions}


async def test_streamable_http_discovery_records_tools_and_server_facts(
    demo: Running, ctx: PluginContext
) -> None:
    url = f"{demo.base}/mcp"
    registration = await McpPlugin().register(
        request({"transport": "remote", "endpoint": url}), ctx
    )
    names = [t.name for t in registration.toolset.tools]
    assert names == ["get_weather", "delete_everything", "get_weather_2", "grow"]
    by_name = {t.name: t for t in registration.toolset.tools}
    assert by_name["get_weather_2"].annotations["mcp"]["toolName"] == "Get-Weather"
    assert by_name["delete_everything"].annotations["requiresApproval"] is True
    assert by_name["delete_everything"].annotations["approvalDescription"] == "Delete all records"
    assert by_name["get_weather"].annotations["requiresApproval"] is False
    assert by_name["get_weather"].input_schema is not None
    assert registration.details["serverName"] == "Demo Server"
    assert registration.details["instructions"] == "Use get_weather for forecasts."
    assert registration.details["transport"] == "streamable-http"
    assert registration.details["toolCount"] == 4
    assert conditions(registration) == {
        "Reachable": ("True", "Answered"),
        "AuthRequired": ("False", "NotRequired"),
        "ToolsDiscovered": ("True", "Discovered"),
    }
    record = registration.record
    assert record.name == "Demo Server" and record.can_refresh is True
    assert record.config["authenticationTemplate"] == [{"kind": "none", "slug": "none"}]
    assert registration.display_url == url
    assert not registration.toolset.incomplete


async def test_auto_falls_back_to_sse(ctx: PluginContext) -> None:
    server = demo_server("Legacy SSE")
    with serve(server.sse_app(transport_security=OPEN)) as running:
        config = {"transport": "remote", "endpoint": f"{running.base}/sse"}
        registration = await McpPlugin().register(request(config), ctx)
    assert registration.details["transport"] == "sse"
    assert len(registration.toolset.tools) == 4


async def test_pinned_sse_transport(ctx: PluginContext) -> None:
    with serve(sse_app(paged_server(7, 3))) as running:
        config = {
            "transport": "remote",
            "endpoint": f"{running.base}/sse",
            "remoteTransport": "sse",
        }
        registration = await McpPlugin().register(request(config), ctx)
    assert len(registration.toolset.tools) == 7
    assert registration.details["pages"] == 3


async def test_pagination_follows_next_cursor(ctx: PluginContext) -> None:
    with serve(streamable(paged_server(250, 40))) as running:
        config = {"transport": "remote", "endpoint": f"{running.base}/mcp"}
        registration = await McpPlugin().register(request(config), ctx)
    assert len(registration.toolset.tools) == 250
    assert registration.details["pages"] == 7
    assert registration.toolset.tools[-1].name == "tool_00249"


async def test_a_list_changed_during_listing_re_reads_the_list(ctx: PluginContext) -> None:
    with serve(LegacyOnly(streamable(notifying_server()))) as running:
        config = {"transport": "remote", "endpoint": f"{running.base}/mcp"}
        registration = await McpPlugin().register(request(config), ctx)
    assert [t.name for t in registration.toolset.tools] == ["new"]


async def test_a_401_server_is_reachable_and_needs_credentials(ctx: PluginContext) -> None:
    with serve(BearerGate(streamable(demo_server()))) as running:
        endpoint = f"{running.base}/mcp"
        registration = await McpPlugin().register(
            request({"transport": "remote", "endpoint": endpoint}), ctx
        )
    assert conditions(registration) == {
        "Reachable": ("True", "Answered"),
        "AuthRequired": ("True", "CredentialsRequired"),
        "ToolsDiscovered": ("False", "NeedsCredentials"),
    }
    assert registration.toolset.incomplete
    assert "toolCount" not in registration.details
    assert registration.details["probe"]["probe"] == "mcp/bearer-resource-metadata"
    (template,) = registration.record.config["authenticationTemplate"]
    assert template["kind"] == "oauth2" and template["slug"] == "oauth2"
    assert template["discoveryUrl"] == (
        f"{running.base}/.well-known/oauth-authorization-server/auth"
    )
    assert template["authorizationUrl"] == f"{running.base}/auth/authorize"
    assert template["tokenUrl"] == f"{running.base}/auth/token"
    assert template["resource"] == endpoint
    assert template["scopes"] == ["tools:read", "tools:call"]  # the resource's own list
    assert template["supportsDynamicRegistration"] is True
    assert template["registrationEndpoint"] == f"{running.base}/auth/register"


async def test_dynamic_registration_is_reported_as_found_not_assumed(ctx: PluginContext) -> None:
    with serve(BearerGate(streamable(demo_server()), registration=False)) as running:
        config = {"transport": "remote", "endpoint": f"{running.base}/mcp"}
        registration = await McpPlugin().register(request(config), ctx)
    (template,) = registration.record.config["authenticationTemplate"]
    assert template["supportsDynamicRegistration"] is False
    assert "registrationEndpoint" not in template


async def test_declared_templates_merge_with_the_discovered_oauth(ctx: PluginContext) -> None:
    declared = [{"kind": "apikey", "placements": [{"carrier": "header", "name": "X-Key"}]}]
    with serve(BearerGate(streamable(demo_server()))) as running:
        config = {
            "transport": "remote",
            "endpoint": f"{running.base}/mcp",
            "authenticationTemplate": declared,
        }
        registration = await McpPlugin().register(request(config), ctx)
    slugs = [t["slug"] for t in registration.record.config["authenticationTemplate"]]
    assert slugs == ["oauth2", "header"]


async def test_static_headers_are_sent(ctx: PluginContext) -> None:
    """A gate that accepts the token as a static header: the header reaches the server."""
    with serve(BearerGate(streamable(demo_server()))) as running:
        config = {
            "transport": "remote",
            "endpoint": f"{running.base}/mcp",
            "headers": {"Authorization": f"Bearer {TOKEN}"},
        }
        registration = await McpPlugin().register(request(config), ctx)
    assert len(registration.toolset.tools) == 4


async def test_refresh_after_an_outage_keeps_tools_and_the_derived_auth(ctx: PluginContext) -> None:
    with serve(BearerGate(streamable(demo_server()))) as running:
        endpoint = f"{running.base}/mcp"
        first = await McpPlugin().register(
            request({"transport": "remote", "endpoint": endpoint}), ctx
        )
    # The server is gone now: same port, nothing listening.
    second = await McpPlugin(discovery_deadline=5).register(
        request({"transport": "remote", "endpoint": endpoint}, previous=first.record), ctx
    )
    assert second.toolset.incomplete
    assert conditions(second)["Reachable"] == ("False", "Unreachable")
    assert conditions(second)["AuthRequired"] == ("Unknown", "NotProbed")
    assert (
        second.record.config["authenticationTemplate"]
        == first.record.config["authenticationTemplate"]
    )
    assert "toolCount" not in second.details


async def test_unreachable_at_first_registration_is_registered_with_conditions(
    ctx: PluginContext,
) -> None:
    config = {"transport": "remote", "endpoint": "http://127.0.0.1:1/mcp"}
    registration = await McpPlugin(discovery_deadline=5).register(request(config), ctx)
    assert registration.toolset.incomplete
    assert conditions(registration)["Reachable"] == ("False", "Unreachable")
    assert conditions(registration)["ToolsDiscovered"][0] == "False"


async def test_the_outbound_policy_applies_to_discovery(
    public_ctx: PluginContext, demo: Running
) -> None:
    config = {"transport": "remote", "endpoint": f"{demo.base}/mcp"}
    with pytest.raises(URLNotAllowedError) as caught:
        await McpPlugin().register(request(config), public_ctx)
    assert caught.value.field == "spec.mcp.endpoint"


async def test_resolve_tools_with_a_connection_s_credentials(ctx: PluginContext) -> None:
    from switchboard.plugins.contract import ConnectionRequest

    with serve(BearerGate(streamable(demo_server()))) as running:
        config = {"transport": "remote", "endpoint": f"{running.base}/mcp"}
        plugin = McpPlugin()
        registration = await plugin.register(request(config), ctx)
        good = ConnectionRequest(
            tenant="acme",
            owner="org",
            subject="",
            name="prod",
            template="oauth2",
            values={"token": TOKEN},
        )
        toolset = await plugin.resolve_tools(registration.record, good, ctx)
        bad = ConnectionRequest(
            tenant="acme",
            owner="org",
            subject="",
            name="prod",
            template="oauth2",
            values={"token": "nope"},
        )
        rejected = await plugin.resolve_tools(registration.record, bad, ctx)
    assert len(toolset.tools) == 4 and not toolset.incomplete
    assert rejected.incomplete
    assert [(c.type, c.reason) for c in rejected.conditions] == [
        ("ToolsDiscovered", "CredentialsRejected")
    ]
    assert "nope" not in repr(rejected) and TOKEN not in repr(rejected)
