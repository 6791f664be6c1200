"""`spec.mcp` read and checked (errors name the field), the stored config it becomes, and the
discovery target (remote endpoint or stdio command) a config plus a connection's values give."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from switchboard.errors import InvalidSpecError, StdioNotAllowedError
from switchboard.models.integration import McpSpec
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.mcp.auth import apply, with_query
from switchboard.plugins.mcp.discovering import RemoteTarget, Target
from switchboard.plugins.mcp.stdio import child_environment, resolve_command
from switchboard.plugins.templates import Template, dump_templates

FIELD = "spec.mcp"
STORED_ONLY = frozenset({"derivedAuthentication"})
"""Keys of the stored config that are not spec fields."""


def parse_spec(config: Mapping[str, Any]) -> McpSpec:
    """The spec sub-object as a model; a bad field is an `InvalidSpecError` naming it."""
    try:
        spec = McpSpec.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidSpecError(first["msg"], field=f"{FIELD}.{where}") from exc
    if spec.transport == "remote":
        if not spec.endpoint or not spec.endpoint.strip():
            raise InvalidSpecError("required when transport is remote", field=f"{FIELD}.endpoint")
        parts = urlsplit(spec.endpoint.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidSpecError("must be an http or https URL", field=f"{FIELD}.endpoint")
    elif not spec.command or not spec.command.strip():
        raise InvalidSpecError("required when transport is stdio", field=f"{FIELD}.command")
    return spec


def parse_stored(config: Mapping[str, Any]) -> McpSpec:
    """The spec back from a stored config (which also keeps what registration derived)."""
    return parse_spec({k: v for k, v in config.items() if k not in STORED_ONLY})


def require_stdio_allowed(spec: McpSpec, ctx: PluginContext) -> None:
    if spec.transport == "stdio" and not ctx.allow_stdio:
        raise StdioNotAllowedError(
            "stdio MCP servers run a local command and are off; the operator enables them with "
            "SWITCHBOARD_MCP_ALLOW_STDIO=true",
            field=f"{FIELD}.transport",
        )


def stored_config(
    spec: McpSpec, templates: list[Template], derived: list[Template]
) -> dict[str, Any]:
    """What the catalog row keeps: the spec (no secrets by contract) and the templates."""
    config: dict[str, Any] = spec.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude={"authentication_template"}
    )
    if spec.endpoint:
        config["endpoint"] = spec.endpoint.strip()
    config["authenticationTemplate"] = dump_templates(templates)
    config["derivedAuthentication"] = dump_templates(derived)
    return config


def target_for(
    spec: McpSpec,
    template: Template | None,
    values: Mapping[str, str],
) -> Target:
    """Where discovery connects, with a connection's credentials applied (none at registration)."""
    if spec.transport == "remote":
        assert spec.endpoint is not None
        url, headers, _ = apply(
            template,
            values,
            url=with_query(spec.endpoint.strip(), spec.query_params or {}),
            headers=spec.headers or {},
        )
        return RemoteTarget(url=url, headers=headers, transport=spec.remote_transport or "auto")
    assert spec.command is not None
    _, _, secrets = apply(template, values, url="", headers={})
    env = child_environment(spec.env or {}, secrets)
    return resolve_command(spec.command.strip(), spec.args or [], env, field=f"{FIELD}.command")
