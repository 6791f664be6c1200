"""Server objects: URL templates with variables and defaults, relative URLs resolved against the
spec's own URL, and the `server` input a tool offers when there is a choice to make."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

Server = dict[str, Any]
"""`{"url": template, "variables": {name: {"default": ..., "enum": [...]}}}`; variables optional."""


def _absolute(url: str, spec_url: str | None) -> str:
    if url.startswith(("http://", "https://")):
        return url
    if spec_url:
        return urljoin(spec_url, url)
    if url.startswith("//"):
        return "https:" + url
    return url


def parse_servers(raw: Any, spec_url: str | None) -> list[Server]:
    """Usable server objects from a `servers` array; relative URLs resolved when possible."""
    out: list[Server] = []
    if not isinstance(raw, list):
        return out
    for server in raw:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        parsed: Server = {"url": _absolute(server["url"].strip(), spec_url)}
        variables = server.get("variables")
        if isinstance(variables, dict):
            kept: dict[str, Any] = {}
            for name, spec in variables.items():
                if not isinstance(spec, dict):
                    continue
                entry: dict[str, Any] = {"default": str(spec.get("default", ""))}
                if isinstance(spec.get("enum"), list) and spec["enum"]:
                    entry["enum"] = [str(v) for v in spec["enum"]]
                kept[str(name)] = entry
            if kept:
                parsed["variables"] = kept
        out.append(parsed)
    return out


def server_url(server: Server, values: dict[str, str] | None = None) -> str:
    """The server's URL with variables substituted (given values, else defaults)."""
    url: str = server["url"]
    for name, spec in (server.get("variables") or {}).items():
        value = (values or {}).get(name, spec.get("default", ""))
        url = url.replace("{" + name + "}", str(value))
    return url


def is_relative(server: Server) -> bool:
    return not str(server["url"]).startswith(("http://", "https://"))


def server_input(servers: list[Server]) -> dict[str, Any] | None:
    """The `server` property of a tool's input: offered when there are several servers or any
    variables; absent otherwise (the only server is used)."""
    if not servers or (len(servers) == 1 and not servers[0].get("variables")):
        return None
    variables: dict[str, Any] = {}
    for server in servers:
        for name, spec in (server.get("variables") or {}).items():
            schema: dict[str, Any] = {"type": "string", "default": spec["default"]}
            if "enum" in spec:
                schema["enum"] = spec["enum"]
            variables.setdefault(name, schema)
    properties: dict[str, Any] = {
        "url": {
            "type": "string",
            "enum": [s["url"] for s in servers],
            "default": servers[0]["url"],
            "description": "Which server to call (a template; variables fill it in).",
        }
    }
    if variables:
        properties["variables"] = {
            "type": "object",
            "properties": variables,
            "additionalProperties": False,
        }
    return {"type": "object", "properties": properties, "additionalProperties": False}
