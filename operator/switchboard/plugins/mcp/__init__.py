"""The built-in MCP plugin (remote streamable HTTP / SSE and stdio servers)."""

from switchboard.plugins.mcp.plugin import McpPlugin, plugin

__all__ = ["McpPlugin", "plugin"]
