"""Auth templates of an MCP integration: what the probe derives, how declared templates combine
with it, OAuth facts filled into `oauth2` templates, and how a connection's values are applied
to a request (headers, query, cookies) or to a stdio child (environment)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from switchboard.models.auth import ApiKeyTemplate, AuthPlacement, NoneTemplate, OAuth2Template
from switchboard.plugins.mcp.oauth import OAuthFacts
from switchboard.plugins.mcp.shapes import Shape
from switchboard.plugins.templates import (
    Template,
    merge_templates,
    normalize_slugs,
    parse_templates,
    render,
)

DEFAULT = [NoneTemplate(slug="none")]


def derive(shape: Shape | None, oauth: OAuthFacts | None) -> list[Template]:
    """Templates the server's own answers justify: `none` when it answered without
    credentials; `oauth2` when it requires auth and its OAuth metadata was found; a bearer
    header when it challenged with `Bearer` but published no metadata."""
    if shape is None or not shape.requires_auth:
        return list(DEFAULT)
    if oauth is not None and oauth.found:
        return [fill_oauth(OAuth2Template(slug="oauth2"), oauth)]
    if shape.bearer:
        bearer = AuthPlacement(carrier="header", name="Authorization", prefix="Bearer ")
        return [ApiKeyTemplate(slug="header", placements=[bearer])]
    return []


def fill_oauth(template: OAuth2Template, facts: OAuthFacts) -> OAuth2Template:
    """Discovered values for the fields the user left empty (declared values win)."""
    found: dict[str, Any] = {
        "discovery_url": facts.metadata_url or facts.resource_metadata_url,
        "authorization_url": facts.authorization_endpoint,
        "token_url": facts.token_endpoint,
        "resource": facts.resource,
        "registration_endpoint": facts.registration_endpoint,
        "supports_dynamic_registration": facts.supports_dynamic_registration,
        "supports_client_id_metadata_document": facts.client_id_metadata_document,
    }
    update = {k: v for k, v in found.items() if v is not None and getattr(template, k) is None}
    if not template.scopes and facts.scopes:
        update["scopes"] = list(facts.scopes)
    if template.flow is None and facts.authorization_endpoint:
        update["flow"] = "authorizationCode"
    return template.model_copy(update=update)


def combine(
    derived: Sequence[Template], declared: Sequence[Template] | None, mode: str | None
) -> list[Template]:
    """Declared templates (slugs normalized: kind defaults, `_2` suffixes) merged into the
    derived ones, or replacing them; none declared means the derived ones, else `none`."""
    if declared is None:
        return list(derived) or list(DEFAULT)
    if not declared:
        return []
    normalized = normalize_slugs(declared)
    if mode == "replace":
        return normalized
    return merge_templates(derived, normalized)


def enrich(templates: Sequence[Template], facts: OAuthFacts | None) -> list[Template]:
    """Every `oauth2` template gains what discovery found."""
    if facts is None or not facts.found:
        return list(templates)
    return [fill_oauth(t, facts) if isinstance(t, OAuth2Template) else t for t in templates]


def select(raw: object, slug: str) -> Template | None:
    """The connection's template: exact slug, else the only one declared, else none."""
    try:
        templates = parse_templates(raw if isinstance(raw, list) else [])
    except ValueError:
        return None
    exact = next((t for t in templates if t.slug == slug), None)
    if exact is not None:
        return exact
    return templates[0] if len(templates) == 1 else None


def with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added (a later value of the same name wins)."""
    if not params:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def apply(
    template: Template | None,
    values: Mapping[str, str],
    *,
    url: str,
    headers: Mapping[str, str],
) -> tuple[str, dict[str, str], dict[str, str]]:
    """(url, headers, env) for one connection: static headers first, credentials on top."""
    out_headers = dict(headers)
    if template is None:
        return url, out_headers, {}
    rendered = render(template, values)
    out_headers.update(rendered["headers"])
    if rendered["cookies"]:
        out_headers["cookie"] = "; ".join(f"{k}={v}" for k, v in rendered["cookies"].items())
    return with_query(url, rendered["query"]), out_headers, dict(rendered["env"])
