"""Auth templates (how a credential is applied) and their public projection (descriptors)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from switchboard.models.base import CamelModel

TOKEN_VARIABLE = "token"  # noqa: S105 - a variable name, not a credential
"""The variable a placement renders when it names none (a single-secret connection)."""

Carrier = Literal["header", "query", "cookie", "env"]


class AuthPlacement(CamelModel):
    """Where one credential value goes on a request."""

    carrier: Carrier
    """header, query, cookie, or env (stdio MCP servers)."""
    name: str = Field(min_length=1)
    """Header, query parameter, cookie or environment variable name."""
    prefix: str | None = None
    """Text before the value, e.g. `Bearer `."""
    variable: str | None = None
    """Connection variable whose value is sent; `token` when absent."""
    literal: str | None = None
    """A fixed, non-secret value sent verbatim instead of a variable."""


class NoneTemplate(CamelModel):
    """No credentials: the API is public."""

    kind: Literal["none"] = "none"
    slug: str | None = None
    """Stable identifier; connections name it in `spec.template`."""
    label: str | None = None


class ApiKeyTemplate(CamelModel):
    """A secret sent in headers, query parameters, cookies or environment variables."""

    kind: Literal["apikey"] = "apikey"
    slug: str | None = None
    """Stable identifier; connections name it in `spec.template`."""
    label: str | None = None
    placements: list[AuthPlacement] = Field(default_factory=list)
    """Where each value goes; an empty list sends nothing and is reported as a warning."""


OAuthFlow = Literal["authorizationCode", "clientCredentials", "implicit", "password"]


class OAuth2Template(CamelModel):
    """An OAuth 2.0 (or OpenID Connect) access token, sent as a bearer header."""

    kind: Literal["oauth2"] = "oauth2"
    slug: str | None = None
    """Stable identifier; connections name it in `spec.template`."""
    label: str | None = None
    flow: OAuthFlow | None = None
    """The grant this template uses, when the source document says."""
    authorization_url: str | None = None
    token_url: str | None = None
    refresh_url: str | None = None
    resource: str | None = None
    """RFC 8707 resource indicator, when known."""
    scopes: list[str] = Field(default_factory=list)
    discovery_url: str | None = None
    """OpenID Connect or RFC 8414 metadata URL."""
    registration_endpoint: str | None = None
    supports_dynamic_registration: bool | None = None
    supports_client_id_metadata_document: bool | None = None
    header: str | None = None
    """Header that carries the token; `Authorization` when absent."""
    prefix: str | None = None
    """Text before the token; `Bearer ` when absent."""


class StdioEnvTemplate(CamelModel):
    """Secret environment variables for a stdio MCP server."""

    kind: Literal["stdio_env"] = "stdio_env"
    slug: str | None = None
    label: str | None = None
    vars: list[str] = Field(default_factory=list)


AuthTemplate = Annotated[
    NoneTemplate | ApiKeyTemplate | OAuth2Template | StdioEnvTemplate,
    Field(discriminator="kind"),
]

DescriptorKind = Literal["oauth", "apikey", "header", "none"]


class PlacementDescriptor(CamelModel):
    carrier: Carrier
    name: str
    prefix: str = ""
    variable: str | None = None
    literal: str | None = None


class OAuthDescriptor(CamelModel):
    flow: str | None = None
    discovery_url: str | None = None
    authorization_url: str | None = None
    token_url: str | None = None
    resource: str | None = None
    scopes: list[str] | None = None
    registration_endpoint: str | None = None
    supports_dynamic_registration: bool | None = None
    supports_client_id_metadata_document: bool | None = None


class AuthMethodDescriptor(CamelModel):
    """The public projection of one auth template: what `status.authMethods` lists."""

    id: str
    label: str
    kind: DescriptorKind
    template: str
    """The template slug a Connection names."""
    placements: list[PlacementDescriptor] | None = None
    oauth: OAuthDescriptor | None = None
