"""Checking `spec.graphql` beyond its model: the endpoint URL, static headers that look like
secrets, the declared auth templates (kind-default slugs), and the URL shown in status."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from switchboard.errors import InvalidSpecError
from switchboard.models.auth import ApiKeyTemplate, NoneTemplate, StdioEnvTemplate
from switchboard.models.integration import GraphqlSpec
from switchboard.plugins.templates import Template, normalize_slugs

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "apikey"}
)
SECRET_WORDS = ("token", "secret", "password", "apikey", "api-key")
HTTP_CARRIERS = ("header", "query", "cookie")


def check_endpoint(endpoint: str, *, field: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSpecError(
            f"{endpoint!r} is not an http(s) URL with a host", field=f"{field}.endpoint"
        )
    if parts.username or parts.password:
        raise InvalidSpecError(
            "credentials in the URL are refused: declare an authenticationTemplate and bind "
            "the value through a Connection",
            field=f"{field}.endpoint",
        )


def check_spec(spec: GraphqlSpec, *, field: str) -> list[str]:
    """Refuse what cannot work; return warnings for what looks wrong but may be meant."""
    check_endpoint(spec.endpoint, field=field)
    source = spec.introspection
    if source is not None and source.url is not None and source.url == spec.endpoint:
        raise InvalidSpecError(
            "this is the endpoint itself; a GET of it is not an introspection result. Leave "
            "introspection out to introspect live with each connection's credentials",
            field=f"{field}.introspection.url",
        )
    warnings = []
    for name in spec.headers or {}:
        lowered = name.lower()
        if lowered in SECRET_HEADERS or any(word in lowered for word in SECRET_WORDS):
            warnings.append(
                f"{field}.headers.{name} looks like a credential; static headers are stored and "
                "shown in plain text: declare an authenticationTemplate and bind the value "
                "through a Connection"
            )
    return warnings


def auth_templates(spec: GraphqlSpec, *, field: str) -> list[Template]:
    """The declared templates with kind-default slugs; `none` when none are declared. GraphQL
    derives nothing from the schema, so `merge` and `replace` give the same list."""
    declared = list(spec.authentication_template or [])
    for index, template in enumerate(declared):
        where = f"{field}.authenticationTemplate[{index}]"
        if isinstance(template, StdioEnvTemplate):
            raise InvalidSpecError("stdio_env templates are for stdio MCP servers", field=where)
        if isinstance(template, ApiKeyTemplate):
            for placement in template.placements:
                if placement.carrier not in HTTP_CARRIERS:
                    raise InvalidSpecError(
                        f"carrier {placement.carrier!r} cannot reach an HTTP endpoint "
                        "(header, query or cookie)",
                        field=f"{where}.placements",
                    )
    if not declared:
        return [NoneTemplate(slug="none")]
    return normalize_slugs(declared)


def display_url(endpoint: str) -> str:
    """The endpoint without user info or query string: safe to show anywhere."""
    parts = urlsplit(endpoint)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
