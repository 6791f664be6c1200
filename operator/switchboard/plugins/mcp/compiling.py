"""MCP tools as catalog tools: sanitized ids (`_2` on collisions), the real MCP name kept in
`annotations.mcp.toolName`, `destructiveHint` turned into `requiresApproval` (reference §8.4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp_types import Tool

from switchboard.models.records import ToolDefinition
from switchboard.plugins.mcp.naming import tool_ids


def _annotations(tool: Tool) -> dict[str, Any]:
    upstream = (
        tool.annotations.model_dump(mode="json", by_alias=True, exclude_none=True)
        if tool.annotations is not None
        else {}
    )
    destructive = upstream.get("destructiveHint") is True
    title = tool.title or upstream.get("title")
    out: dict[str, Any] = {
        "mcp": {"toolName": tool.name, **upstream},
        "requiresApproval": destructive,
    }
    if destructive:
        out["approvalDescription"] = title or tool.name
    return out


def compile_tools(tools: Sequence[Tool]) -> list[ToolDefinition]:
    """One `ToolDefinition` per MCP tool, in the server's order."""
    out = []
    for tool_id, tool in zip(tool_ids(t.name for t in tools), tools, strict=True):
        out.append(
            ToolDefinition(
                name=tool_id,
                description=tool.description or f"MCP tool: {tool.name}",
                input_schema=dict(tool.input_schema) if tool.input_schema else None,
                output_schema=dict(tool.output_schema) if tool.output_schema else None,
                annotations=_annotations(tool),
                binding={"toolName": tool.name},
            )
        )
    return out
