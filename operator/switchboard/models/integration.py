"""The `Integration` resource: spec (what the user declares), status (what Switchboard learned)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from switchboard.models.auth import AuthMethodDescriptor, AuthTemplate
from switchboard.models.base import CamelModel
from switchboard.models.conditions import Condition
from switchboard.models.detection import DetectionResult
from switchboard.models.meta import ObjectMeta
from switchboard.models.sources import DocumentSource

API_GROUP = "switchboard.dev"
API_VERSION = f"{API_GROUP}/v1alpha1"
SLUG_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"

AuthMode = Literal["merge", "replace"]


class RefreshSpec(CamelModel):
    """How often the source is re-read."""

    interval: str | None = Field(default=None, pattern=DURATION_PATTERN)
    """A duration such as `30m` or `1h`; absent means only on change."""


class OpenApiSpec(CamelModel):
    """Configuration of an OpenAPI (or Swagger 2.0) integration."""

    source: DocumentSource
    """Where the spec document is read from."""
    base_url: str | None = None
    """Overrides the document's `servers`."""
    headers: dict[str, str] | None = None
    """Static, non-secret headers sent on every call."""
    query_params: dict[str, str] | None = None
    """Static, non-secret query parameters sent on every call."""
    authentication_mode: AuthMode | None = None
    """merge (the default): declared templates are merged into the derived ones; replace: only
    the declared ones."""
    authentication_template: list[AuthTemplate] | None = None
    """Declared auth templates; an explicit empty list means the API needs no auth."""
    oauth_discovery: bool | None = None
    """true: when the document declares no OAuth2 scheme, ask its hosts (baseUrl, servers, the
    spec URL, each then its origin) for RFC 9728 / RFC 8414 metadata and, if they publish it, add
    the template `oauth-DiscoveredOAuth2`. Absent or false: no probing, so registration makes no
    network calls beyond reading the spec. Probing has a short deadline and never fails the
    registration; what was asked and answered is reported in `status.details.oauthDiscovery`."""


class GraphqlSpec(CamelModel):
    """Configuration of a GraphQL integration."""

    endpoint: str = Field(min_length=1)
    """The GraphQL endpoint URL (http or https, no credentials in it)."""
    introspection: DocumentSource | None = None
    """A saved schema: an introspection result (`{data: {__schema}}` or `{__schema}`) or SDL
    text, compiled at registration with no call to the endpoint. When absent, the endpoint is
    introspected live when a connection is created, with that connection's credentials."""
    headers: dict[str, str] | None = None
    """Static, non-secret headers sent with every request."""
    query_params: dict[str, str] | None = None
    """Static, non-secret query parameters added to the endpoint URL."""
    selection_depth: int | None = Field(default=None, ge=1, le=5)
    """How many object levels the default selection set reaches (default 2): 1 selects only the
    returned type's scalar fields; each further level adds argument-free nested objects."""
    authentication_mode: AuthMode | None = None
    """GraphQL derives no auth from the schema, so merge (the default) and replace agree: the
    declared templates, with kind-default slugs (none, header, query, apikey, oauth2)."""
    authentication_template: list[AuthTemplate] | None = None
    """Declared auth templates; absent or empty means the endpoint needs none (`none`)."""


class McpSpec(CamelModel):
    """Configuration of an MCP server integration."""

    transport: Literal["remote", "stdio"]
    """remote (streamable HTTP or SSE) or stdio (a local command)."""
    endpoint: str | None = None
    """Remote server URL."""
    remote_transport: Literal["auto", "streamable-http", "sse"] | None = None
    """auto (the default) tries streamable HTTP, then SSE."""
    headers: dict[str, str] | None = None
    """Static, non-secret headers."""
    query_params: dict[str, str] | None = None
    command: str | None = None
    """stdio: the executable."""
    args: list[str] | None = None
    env: dict[str, str] | None = None
    """stdio: non-secret environment; secrets come from the connection."""
    authentication_mode: AuthMode | None = None
    authentication_template: list[AuthTemplate] | None = None


class AutoSpec(CamelModel):
    """A URL to detect. With `kind: auto` detection picks the plugin: the best-ranked answer is
    registered with a configuration built from its endpoint (or with `spec.<kind>` when that is
    given too), and the ranked answers are kept in `status.detection`. Next to a pinned kind it
    only verifies: `Detected=False` with reason `KindMismatch` when the pinned kind is not among
    the top-confidence answers; the declared kind and its configuration are always kept."""

    url: str
    """An http(s) URL of at most 2,048 characters, fetched under the outbound-safety policy."""


class IntegrationSpec(CamelModel):
    """What the user declares."""

    slug: str | None = Field(default=None, pattern=SLUG_PATTERN)
    """Catalog key within the tenant; defaults to metadata.name with `-` turned into `_`."""
    name: str | None = None
    """Display name; defaults to the source's title."""
    description: str | None = None
    """Prose for the agent; defaults to the source's description."""
    kind: str = Field(min_length=1)
    """openapi, graphql, mcp, auto, or the id of a plugin."""
    openapi: OpenApiSpec | None = None
    graphql: GraphqlSpec | None = None
    mcp: McpSpec | None = None
    auto: AutoSpec | None = None
    config: dict[str, Any] | None = None
    """Configuration for plugin kinds other than the built-in ones."""
    refresh: RefreshSpec | None = None

    @field_validator("slug")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        if value is not None and value in RESERVED_SLUGS:
            raise ValueError(f"{value!r} is reserved for the built-in integration")
        return value


RESERVED_SLUGS = frozenset({"switchboard"})


class ToolsSummary(CamelModel):
    """A small summary of a tool list; the full list lives in the database."""

    count: int = 0
    digest: str | None = None
    """sha256 over the sorted tool names and schemas."""
    sample_names: list[str] | None = None


class IntegrationStatus(CamelModel):
    """What Switchboard learned; written by the controller (status subresource) or into the file."""

    observed_generation: int | None = None
    slug: str | None = None
    kind: str | None = None
    name: str | None = None
    can_remove: bool | None = None
    can_refresh: bool | None = None
    auth_methods: list[AuthMethodDescriptor] | None = None
    display_url: str | None = None
    spec_hash: str | None = None
    tools: ToolsSummary | None = None
    added_tools: list[str] | None = None
    """Tools the last source change added."""
    removed_tools: list[str] | None = None
    """Tools the last source change removed."""
    detection: list[DetectionResult] | None = None
    """Ranked detection results (kind: auto, or a verification of a pinned kind)."""
    details: dict[str, Any] | None = None
    """Plugin-reported facts about the source: version, title, operation count, ..."""
    conditions: list[Condition] = Field(default_factory=list)
    last_attempt_time: str | None = None
    last_success_time: str | None = None
    consecutive_failures: int | None = None
    last_handled_refresh_at: str | None = None
    """Echo of the `switchboard.dev/refresh-requested-at` annotation last acted on."""


class Integration(CamelModel):
    """A catalog entry, as a Kubernetes resource or a manifest in a repository."""

    api_version: Literal["switchboard.dev/v1alpha1"] = "switchboard.dev/v1alpha1"
    kind: Literal["Integration"] = "Integration"
    metadata: ObjectMeta
    spec: IntegrationSpec
    status: IntegrationStatus | None = None

    @property
    def tenant(self) -> str:
        return self.metadata.namespace or "default"

    @property
    def slug(self) -> str:
        """The declared slug, else metadata.name with `-` → `_` (validated by the catalog)."""
        return self.spec.slug or re.sub(r"[-.]", "_", self.metadata.name)
