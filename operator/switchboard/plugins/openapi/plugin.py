"""The OpenAPI plugin: reads a spec, derives auth templates, compiles operations into tools."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from switchboard.errors import InvalidSpecError, SpecParseError
from switchboard.models.auth import AuthMethodDescriptor
from switchboard.models.detection import DetectionResult
from switchboard.models.integration import OpenApiSpec
from switchboard.models.records import IntegrationRecord, Registration, ToolSet
from switchboard.plugins.contract import (
    BasePlugin,
    ConnectionRequest,
    PluginContext,
    RegistrationRequest,
)
from switchboard.plugins.documents import parse_document
from switchboard.plugins.openapi.compiling import compile_document
from switchboard.plugins.openapi.detecting import detect_openapi
from switchboard.plugins.openapi.securing import derive_templates
from switchboard.plugins.templates import combine, describe_all, dump_templates

FIELD = "spec.openapi"


def _version(document: dict[str, Any]) -> str:
    openapi = document.get("openapi")
    if isinstance(openapi, str) and openapi.startswith("3."):
        return openapi
    swagger = document.get("swagger")
    if swagger is not None:
        raise SpecParseError(
            f"Swagger {swagger} documents are not supported yet; convert to OpenAPI 3",
            field=f"{FIELD}.source",
        )
    raise SpecParseError(
        "not an OpenAPI document: no `openapi: 3.x` field at the top", field=f"{FIELD}.source"
    )


class OpenApiPlugin(BasePlugin):
    """OpenAPI 3.0 / 3.1 documents from a file, a URL, inline text or a ConfigMap."""

    id = "openapi"
    order = 10

    def _config(self, config: Mapping[str, Any]) -> OpenApiSpec:
        try:
            return OpenApiSpec.model_validate(config)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidSpecError(first["msg"], field=f"{FIELD}.{where}") from exc

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        spec = self._config(request.config)
        source = await ctx.documents.read(spec.source, field=f"{FIELD}.source")
        spec_hash = hashlib.sha256(source.body).hexdigest()
        document = parse_document(source.body, field=f"{FIELD}.source", limit=ctx.max_spec_bytes)
        if not isinstance(document, dict):
            raise SpecParseError("the document is not an object", field=f"{FIELD}.source")
        version = _version(document)
        compiled = compile_document(
            document, spec_url=source.url, base_url=spec.base_url, field=f"{FIELD}.source"
        )
        first_server = compiled.servers[0] if compiled.servers else source.url
        derived = derive_templates(document, base_url=first_server, field=FIELD)
        declared = (
            None if spec.authentication_template is None else list(spec.authentication_template)
        )
        templates = combine(derived, declared, spec.authentication_mode)
        raw_info = document.get("info")
        info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
        title = info.get("title") if isinstance(info.get("title"), str) else None
        description = info.get("description") if isinstance(info.get("description"), str) else None
        config: dict[str, Any] = {
            "specHash": spec_hash,
            "authenticationTemplate": dump_templates(templates),
        }
        if source.url:
            config["sourceUrl"] = source.url
        if source.etag:
            config["etag"] = source.etag
        if spec.base_url:
            config["baseUrl"] = spec.base_url
        if spec.headers:
            config["headers"] = dict(spec.headers)
        if spec.query_params:
            config["queryParams"] = dict(spec.query_params)
        if compiled.servers:
            config["servers"] = compiled.servers
        record = IntegrationRecord(
            tenant=request.tenant,
            slug=request.slug,
            kind=self.id,
            name=(request.name or "").strip() or title or request.slug,
            description=request.description or description or title or request.slug,
            config=config,
            can_remove=True,
            can_refresh=spec.source.url is not None,
            spec_hash=spec_hash,
        )
        return Registration(
            record=record,
            toolset=ToolSet(tools=compiled.tools, definitions=compiled.definitions),
            details={
                "openapiVersion": version,
                "title": title or "",
                "operationCount": compiled.operation_count,
            },
            display_url=self.describe_display(config),
            warnings=compiled.warnings,
        )

    def describe_auth_methods(self, config: Mapping[str, Any]) -> list[AuthMethodDescriptor]:
        return describe_all(config.get("authenticationTemplate"))

    async def detect(self, url: str, ctx: PluginContext) -> DetectionResult | None:
        return await detect_openapi(url, ctx)

    def describe_display(self, config: Mapping[str, Any]) -> str | None:
        for key in ("baseUrl", "sourceUrl"):
            value = config.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    def can_refresh(self, config: Mapping[str, Any]) -> bool:
        return bool(config.get("sourceUrl"))

    async def resolve_tools(
        self,
        integration: IntegrationRecord,
        connection: ConnectionRequest,
        ctx: PluginContext,
    ) -> ToolSet:
        # Spec-derived tools are identical for every connection and are stored once per
        # integration; a connection adds none of its own.
        return ToolSet()


plugin = OpenApiPlugin()
