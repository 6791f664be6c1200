"""Registering an MCP server: discover without credentials; when that fails, probe the endpoint's
shape and its OAuth metadata; then report what is true as conditions.

A server that answers 401 is reachable and needs credentials (`Reachable=True`,
`AuthRequired=True`): the integration is usable, connections bring the credentials. A server
that cannot be reached keeps its last good tools (`incomplete`), and a tool count is only given
for a list read now.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from switchboard.errors import NotAnMcpServerError, URLNotAllowedError
from switchboard.models.integration import McpSpec
from switchboard.models.records import IntegrationRecord, PluginCondition, Registration, ToolSet
from switchboard.plugins.contract import PluginContext, RegistrationRequest
from switchboard.plugins.mcp import auth
from switchboard.plugins.mcp.compiling import compile_tools
from switchboard.plugins.mcp.configuring import (
    FIELD,
    parse_spec,
    require_stdio_allowed,
    stored_config,
    target_for,
)
from switchboard.plugins.mcp.discovering import Discovery, DiscoveryError, RemoteTarget, discover
from switchboard.plugins.mcp.oauth import OAuthFacts, discover_oauth
from switchboard.plugins.mcp.probing import probe_shape
from switchboard.plugins.mcp.shapes import Shape
from switchboard.plugins.mcp.stdio import StdioCommand
from switchboard.plugins.mcp.wiring import factory_for
from switchboard.plugins.templates import Template, parse_templates

MAX_INSTRUCTIONS = 1000
"""Status stays small: instructions longer than this are cut (the server keeps the original)."""


def _condition(type_: str, status: str, reason: str, message: str = "") -> PluginCondition:
    return PluginCondition(type=type_, status=status, reason=reason, message=message)


def tools_hash(toolset: ToolSet) -> str:
    body = orjson.dumps([t.model_dump(mode="json") for t in toolset.tools])
    return hashlib.sha256(body).hexdigest()


def discovered_details(found: Discovery) -> dict[str, Any]:
    details: dict[str, Any] = {
        "transport": found.transport,
        "toolCount": len(found.tools),
        "pages": found.pages,
        "announcesToolChanges": found.announces_changes,
    }
    for key, value in (
        ("serverName", found.server_name),
        ("serverVersion", found.server_version),
        ("protocolVersion", found.protocol_version),
        ("instructions", (found.instructions or "")[:MAX_INSTRUCTIONS] or None),
    ):
        if value:
            details[key] = value
    return details


def _conditions(
    found: Discovery | None, failure: DiscoveryError | None, shape: Shape | None
) -> list[PluginCondition]:
    if found is not None:
        return [
            _condition("Reachable", "True", "Answered", "the server answered initialize"),
            _condition("AuthRequired", "False", "NotRequired", "discovery needed no credentials"),
            _condition("ToolsDiscovered", "True", "Discovered", f"{len(found.tools)} tools listed"),
        ]
    assert failure is not None
    if failure.auth_required or (shape is not None and shape.requires_auth):
        return [
            _condition("Reachable", "True", "Answered", "the server answered with a 401"),
            _condition(
                "AuthRequired", "True", "CredentialsRequired", "connections supply the credentials"
            ),
            _condition(
                "ToolsDiscovered", "False", "NeedsCredentials", "tools are listed per connection"
            ),
        ]
    reached = shape is not None and shape.kind != "unreachable"
    return [
        _condition(
            "Reachable",
            "True" if reached else "False",
            "Answered" if reached else failure.reason,
            "the server answered" if reached else str(failure),
        ),
        _condition("AuthRequired", "Unknown", "NotProbed", "the server could not be asked"),
        _condition("ToolsDiscovered", "False", failure.reason, str(failure)),
    ]


def _previous_derived(request: RegistrationRequest) -> list[Template] | None:
    if request.previous is None:
        return None
    raw = request.previous.config.get("derivedAuthentication")
    try:
        return parse_templates(raw) if isinstance(raw, list) else None
    except ValueError:
        return None


async def _investigate(
    spec: McpSpec, target: RemoteTarget, ctx: PluginContext, probe_timeout: float
) -> tuple[Shape | None, OAuthFacts | None]:
    """The shape probe and, for a server that wants credentials, its OAuth metadata."""
    factory = ctx.client_factory
    if factory is None:
        return None, None
    shape = await probe_shape(factory, target.url, headers=target.headers, timeout=probe_timeout)
    oauth = None
    if shape.requires_auth:
        oauth = await discover_oauth(
            ctx.http,
            target.url,
            resource_metadata=shape.resource_metadata,
            timeout=probe_timeout,
        )
    return shape, oauth


async def register_server(
    plugin_id: str,
    request: RegistrationRequest,
    ctx: PluginContext,
    *,
    deadline: float,
    probe_timeout: float,
) -> Registration:
    spec = parse_spec(request.config)
    require_stdio_allowed(spec, ctx)
    target = target_for(spec, None, {})
    found: Discovery | None = None
    failure: DiscoveryError | None = None
    shape: Shape | None = None
    oauth: OAuthFacts | None = None
    try:
        found = await discover(target, factory_for(ctx), deadline=deadline)
    except DiscoveryError as exc:
        failure = exc
        if isinstance(target, RemoteTarget) and exc.reason != "URLNotAllowed":
            shape, oauth = await _investigate(spec, target, ctx, probe_timeout)
    wrong = shape is not None and shape.kind == "not-mcp" and not shape.requires_auth
    if wrong and request.previous is None:
        assert shape is not None
        raise NotAnMcpServerError(
            f"the endpoint answers, but not as an MCP server ({shape.reason}, HTTP {shape.status})",
            field=f"{FIELD}.endpoint",
        )
    if failure is not None and failure.reason == "URLNotAllowed":
        raise URLNotAllowedError(str(failure), field=f"{FIELD}.endpoint")
    learned = found is not None or (shape is not None and shape.kind != "unreachable")
    derived = (
        auth.derive(shape, oauth)
        if learned
        else (_previous_derived(request) or auth.derive(None, None))
    )
    declared = None if spec.authentication_template is None else list(spec.authentication_template)
    templates = auth.enrich(auth.combine(derived, declared, spec.authentication_mode), oauth)
    config = stored_config(spec, templates, derived)
    toolset = ToolSet(tools=compile_tools(found.tools)) if found else ToolSet(incomplete=True)
    details: dict[str, Any] = discovered_details(found) if found else {}
    if shape is not None:
        details["probe"] = shape.evidence()
    if isinstance(target, StdioCommand):
        details.setdefault("transport", "stdio")
    server_name = found.server_name if found else None
    record = IntegrationRecord(
        tenant=request.tenant,
        slug=request.slug,
        kind=plugin_id,
        name=(request.name or "").strip() or server_name or request.slug,
        description=(request.description or "").strip() or server_name or request.slug,
        config=config,
        can_remove=True,
        can_refresh=True,
        spec_hash=tools_hash(toolset) if found else None,
    )
    return Registration(
        record=record,
        toolset=toolset,
        conditions=_conditions(found, failure, shape),
        details=details,
        display_url=spec.endpoint.strip() if spec.endpoint else None,
    )
