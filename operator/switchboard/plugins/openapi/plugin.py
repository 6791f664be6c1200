"""The OpenAPI plugin: Swagger 2.0 and OpenAPI 3.0/3.1 documents from a file, a URL, inline text
or a ConfigMap, compiled into tools and auth templates (the pipeline is in `registering`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.models.auth import AuthMethodDescriptor
from switchboard.models.detection import DetectionResult
from switchboard.models.records import IntegrationRecord, Registration, ToolSet
from switchboard.plugins.contract import (
    BasePlugin,
    ConnectionRequest,
    PluginContext,
    RegistrationRequest,
)
from switchboard.plugins.openapi import discovering, registering
from switchboard.plugins.openapi.detecting import detect_openapi
from switchboard.plugins.templates import describe_all


class OpenApiPlugin(BasePlugin):
    """OpenAPI and Swagger documents."""

    id = "openapi"
    order = 10

    def __init__(self, *, oauth_discovery_deadline: float = discovering.DEADLINE) -> None:
        self.oauth_discovery_deadline = oauth_discovery_deadline
        """Seconds for all OAuth metadata probing of one registration (`oauthDiscovery: true`)."""

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        return await registering.register(
            request, ctx, oauth_deadline=self.oauth_discovery_deadline
        )

    def describe_auth_methods(self, config: Mapping[str, Any]) -> list[AuthMethodDescriptor]:
        return describe_all(config.get("authenticationTemplate"))

    async def detect(self, url: str, ctx: PluginContext) -> DetectionResult | None:
        return await detect_openapi(url, ctx)

    def describe_display(self, config: Mapping[str, Any]) -> str | None:
        return registering.display_url(config)

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
