"""stdio servers: off unless the operator enables them; a published server run for real
(`mcp-server-time` from PyPI); the child sees only the environment it is given; a command that
does not exist or exits at once."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from switchboard.errors import InvalidSpecError, StdioNotAllowedError
from switchboard.plugins.contract import ConnectionRequest, PluginContext, RegistrationRequest
from switchboard.plugins.mcp.plugin import McpPlugin

BIN = Path(sys.executable).parent


def request(config: dict[str, Any]) -> RegistrationRequest:
    return RegistrationRequest(tenant="acme", slug="local", config=config)


def conditions(registration: Any) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in registration.conditions}


async def test_stdio_is_refused_unless_enabled(ctx: PluginContext) -> None:
    config = {"transport": "stdio", "command": str(BIN / "mcp-server-time")}
    with pytest.raises(StdioNotAllowedError) as caught:
        await McpPlugin().register(request(config), ctx)
    assert caught.value.field == "spec.mcp.transport"
    assert "SWITCHBOARD_MCP_ALLOW_STDIO" in str(caught.value)


async def test_a_published_server_over_stdio(stdio_ctx: PluginContext) -> None:
    config = {
        "transport": "stdio",
        "command": str(BIN / "mcp-server-time"),
        "args": ["--local-timezone", "UTC"],
    }
    registration = await McpPlugin().register(request(config), stdio_ctx)
    names = sorted(t.name for t in registration.toolset.tools)
    assert names == ["convert_time", "get_current_time"]
    assert registration.details["transport"] == "stdio"
    assert registration.details["serverName"] == "mcp-time"
    assert conditions(registration)["ToolsDiscovered"] == ("True", "Discovered")
    assert registration.display_url is None
    assert McpPlugin().describe_display(registration.record.config) is None


SPY = textwrap.dedent(
    """
    import os
    from mcp.server import MCPServer

    server = MCPServer("env-spy", log_level="WARNING")
    for key in sorted(os.environ):
        server.add_tool(lambda: "", name="env_" + key, description=os.environ[key][:3])
    server.run("stdio")
    """
)


async def test_the_child_gets_only_the_environment_it_is_given(
    stdio_ctx: PluginContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPERATOR_ONLY_SECRET", "must-not-leak")
    script = tmp_path / "spy.py"
    script.write_text(SPY)
    config = {
        "transport": "stdio",
        "command": sys.executable,
        "args": [str(script)],
        "env": {"REGION": "eu1"},
        "authenticationTemplate": [{"kind": "stdio_env", "vars": ["API_TOKEN"]}],
    }
    plugin = McpPlugin()
    registration = await plugin.register(request(config), stdio_ctx)
    seen = {t.name for t in registration.toolset.tools}
    assert seen == {"env_path", "env_region"} | ({"env_lc_ctype"} & seen)
    connection = ConnectionRequest(
        tenant="acme",
        owner="org",
        subject="",
        name="main",
        template="env",
        values={"API_TOKEN": "tok"},
    )
    toolset = await plugin.resolve_tools(registration.record, connection, stdio_ctx)
    tools = {t.name: t.description for t in toolset.tools}
    assert "env_api_token" in tools and tools["env_api_token"] == "tok"
    assert "env_operator_only_secret" not in tools
    assert "env_home" not in tools and "env_user" not in tools
    assert tools["env_path"] == "/us"  # the minimal PATH, not the operator's


async def test_a_command_that_does_not_exist(stdio_ctx: PluginContext) -> None:
    config = {"transport": "stdio", "command": "no-such-mcp-server-anywhere"}
    with pytest.raises(InvalidSpecError) as caught:
        await McpPlugin().register(request(config), stdio_ctx)
    assert caught.value.field == "spec.mcp.command"


async def test_a_command_that_exits_at_once(stdio_ctx: PluginContext) -> None:
    config = {
        "transport": "stdio",
        "command": sys.executable,
        "args": ["-c", "raise SystemExit(3)"],
    }
    registration = await McpPlugin(discovery_deadline=10).register(request(config), stdio_ctx)
    assert registration.toolset.incomplete
    assert conditions(registration)["ToolsDiscovered"] == ("False", "ProcessExited")
    message = next(c.message for c in registration.conditions if c.type == "ToolsDiscovered")
    assert "status 3" in message


async def test_a_command_that_writes_garbage(stdio_ctx: PluginContext) -> None:
    code = "import sys, time\nprint('hello, not json-rpc'); sys.stdout.flush(); time.sleep(30)"
    config = {"transport": "stdio", "command": sys.executable, "args": ["-c", code]}
    registration = await McpPlugin(discovery_deadline=2).register(request(config), stdio_ctx)
    assert registration.toolset.incomplete
    assert conditions(registration)["ToolsDiscovered"][1] in ("Timeout", "ProtocolError")
