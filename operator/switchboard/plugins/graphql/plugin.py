"""The GraphQL plugin: registers an endpoint (compiling a saved schema when one is given, with no
call to the endpoint), introspects live per connection with its credentials, and detects URLs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from switchboard.errors import (
    InvalidSpecError,
    TemporaryError,
    UnknownTemplateError,
)
from switchboard.models.auth import AuthMethodDescriptor, OAuth2Template
from switchboard.models.detection import DetectionResult
from switchboard.models.integration import GraphqlSpec
from switchboard.models.records import IntegrationRecord, PluginCondition, Registration, ToolSet
from switchboard.plugins.contract import (
    BasePlugin,
    ConnectionRequest,
    PluginContext,
    RegistrationRequest,
)
from switchboard.plugins.graphql import detecting
from switchboard.plugins.graphql.compiling import compile_schema
from switchboard.plugins.graphql.introspecting import build_request, introspect, redact
from switchboard.plugins.graphql.selecting import DEFAULT_DEPTH
from switchboard.plugins.graphql.snapshots import load_schema
from switchboard.plugins.graphql.specs import auth_templates, check_spec, display_url
from switchboard.plugins.templates import describe, dump_templates, parse_templates, render

FIELD = "spec.graphql"
COMPILER_REVISION = "2"
"""Bumped when the same schema compiles to different tools, so stored tools are rewritten (2: SDL
snapshots honour selectionDepth)."""


def tools_hash(schema_hash: str, depth: int | None) -> str:
    """What the stored tools derive from: the schema, the selection depth, the compiler. Core
    rewrites tools only when this changes, so each of them must be in it."""
    seed = f"{schema_hash}:{depth or DEFAULT_DEPTH}:{COMPILER_REVISION}"
    return hashlib.sha256(seed.encode()).hexdigest()


class GraphqlPlugin(BasePlugin):
    """GraphQL endpoints: tools `query.<field>`, `mutation.<field>`, `subscription.<field>`."""

    id = "graphql"
    order = 30

    def _spec(self, config: Mapping[str, Any]) -> GraphqlSpec:
        try:
            spec = GraphqlSpec.model_validate(config)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidSpecError(first["msg"], field=f"{FIELD}.{where}") from exc
        return spec

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        spec = self._spec(request.config)
        warnings = check_spec(spec, field=FIELD)
        templates = auth_templates(spec, field=FIELD)
        host = urlsplit(spec.endpoint).hostname or request.slug
        config: dict[str, Any] = {
            "endpoint": spec.endpoint,
            "authenticationTemplate": dump_templates(templates),
            "introspection": "live" if spec.introspection is None else "snapshot",
        }
        for key, value in (
            ("headers", spec.headers),
            ("queryParams", spec.query_params),
            ("selectionDepth", spec.selection_depth),
        ):
            if value:
                config[key] = value
        name = (request.name or "").strip() or host
        details: dict[str, Any] = {"introspection": config["introspection"], "title": name}
        conditions: list[PluginCondition] = []
        toolset = ToolSet()
        spec_hash = None
        description = None
        if spec.introspection is None:
            conditions.append(
                PluginCondition(
                    type="ToolsDiscovered",
                    status="Unknown",
                    reason="IntrospectedPerConnection",
                    message="tools come from live introspection when a connection is created",
                )
            )
        else:
            where = f"{FIELD}.introspection"
            source = await ctx.documents.read(spec.introspection, field=where)
            depth = spec.selection_depth or DEFAULT_DEPTH
            loaded = load_schema(source.body, field=where, limit=ctx.max_spec_bytes, depth=depth)
            compiled = compile_schema(loaded)
            toolset = compiled.toolset
            schema_hash = hashlib.sha256(source.body).hexdigest()
            spec_hash = tools_hash(schema_hash, spec.selection_depth)
            config["schemaHash"] = schema_hash
            if source.url:
                config["sourceUrl"] = source.url
            details.update(compiled.details, schemaHash=schema_hash, schemaForm=loaded.form)
            warnings.extend(loaded.warnings)
            description = loaded.description
        record = IntegrationRecord(
            tenant=request.tenant,
            slug=request.slug,
            kind=self.id,
            name=name,
            description=request.description or description or f"GraphQL API at {host}",
            config=config,
            can_remove=True,
            can_refresh=self.can_refresh(config),
            spec_hash=spec_hash,
        )
        return Registration(
            record=record,
            toolset=toolset,
            conditions=conditions,
            details=details,
            display_url=self.describe_display(config),
            warnings=warnings,
        )

    def describe_auth_methods(self, config: Mapping[str, Any]) -> list[AuthMethodDescriptor]:
        raw = config.get("authenticationTemplate")
        if not isinstance(raw, list):
            return []
        try:
            templates = parse_templates(raw)
        except (ValidationError, ValueError, TypeError):
            return []
        out = []
        for template in templates:
            descriptor = describe(template)
            if isinstance(template, OAuth2Template) and not template.label:
                descriptor.label = "OAuth"  # the reference's GraphQL label (§6 table)
            out.append(descriptor)
        return out

    def describe_display(self, config: Mapping[str, Any]) -> str | None:
        endpoint = config.get("endpoint")
        return display_url(endpoint) if isinstance(endpoint, str) and endpoint else None

    def can_refresh(self, config: Mapping[str, Any]) -> bool:
        """Live schemas are re-introspected; a snapshot only when it comes from a URL."""
        return config.get("introspection") == "live" or bool(config.get("sourceUrl"))

    async def detect(self, url: str, ctx: PluginContext) -> DetectionResult | None:
        return await detecting.detect(url, ctx)

    async def resolve_tools(
        self,
        integration: IntegrationRecord,
        connection: ConnectionRequest,
        ctx: PluginContext,
    ) -> ToolSet:
        """Introspect with the connection's credentials. An outage gives `incomplete` (the
        caller keeps the last good tools, marked stale); refused credentials, disabled
        introspection and non-GraphQL answers raise a PermanentError naming the cause."""
        config = integration.config
        if config.get("introspection") != "live":
            return ToolSet()  # the saved schema's tools belong to the integration, not to us
        endpoint = str(config.get("endpoint") or "")
        field = f"{FIELD}.endpoint"
        templates = parse_templates(config.get("authenticationTemplate") or [])
        template = next((t for t in templates if t.slug == connection.template), None)
        if template is None:
            known = ", ".join(t.slug or "" for t in templates) or "none"
            raise UnknownTemplateError(
                f"template {connection.template!r} is not one of this integration's: {known}",
                field="spec.template",
            )
        request = build_request(
            endpoint,
            headers=config.get("headers"),
            query_params=config.get("queryParams"),
            auth=render(template, connection.values),
            values=connection.values.values(),
        )
        try:
            loaded = await introspect(
                ctx.http,
                request,
                endpoint=endpoint,
                field=field,
                max_bytes=ctx.max_spec_bytes,
                depth=config.get("selectionDepth") or DEFAULT_DEPTH,
            )
        except TemporaryError as exc:
            condition = PluginCondition(
                type="ToolsDiscovered",
                status="False",
                reason="IntrospectionFailed",
                message=redact(str(exc), request.secrets),
            )
            return ToolSet(incomplete=True, conditions=[condition])
        return compile_schema(loaded).toolset


plugin = GraphqlPlugin()
