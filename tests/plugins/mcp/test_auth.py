"""Auth templates of MCP integrations: defaults, merge/replace with normalized slugs, what the
probe derives, OAuth facts filled in, descriptors (reference cases 15, 16, 33-35), and how a
connection's values reach a request or a stdio child."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.models.auth import ApiKeyTemplate, AuthPlacement, OAuth2Template
from switchboard.plugins.mcp import auth
from switchboard.plugins.mcp.oauth import OAuthFacts
from switchboard.plugins.mcp.plugin import McpPlugin
from switchboard.plugins.mcp.shapes import Shape
from switchboard.plugins.templates import dump_templates, parse_templates

FACTS = OAuthFacts(
    resource="https://x.example/oauth/mcp",
    resource_metadata_url="https://x.example/.well-known/oauth-protected-resource/oauth/mcp",
    issuer="https://as.example",
    metadata_url="https://as.example/.well-known/oauth-authorization-server",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
    registration_endpoint=None,
    scopes=["read"],
)
AUTH_SHAPE = Shape(kind="mcp", reason="bearer-resource-metadata", requires_auth=True, bearer=True)


def slugs(templates: list[Any]) -> list[str | None]:
    return [t.slug for t in templates]


def test_nothing_declared_on_an_open_server_is_none() -> None:
    assert dump_templates(auth.combine(auth.derive(None, None), None, None)) == [
        {"kind": "none", "slug": "none"}
    ]


def test_an_oauth_server_derives_an_oauth2_template_with_what_was_found() -> None:
    (template,) = auth.derive(AUTH_SHAPE, FACTS)
    assert isinstance(template, OAuth2Template)
    assert template.slug == "oauth2"
    assert template.discovery_url == FACTS.metadata_url
    assert template.authorization_url == "https://as.example/authorize"
    assert template.token_url == "https://as.example/token"
    assert template.resource == FACTS.resource
    assert template.scopes == ["read"]
    # The metadata was read and named no registration endpoint: False, not assumed True.
    assert template.supports_dynamic_registration is False


def test_unknown_registration_stays_unknown() -> None:
    facts = OAuthFacts(resource_metadata_url="https://x/.well-known/oauth-protected-resource")
    (template,) = auth.derive(AUTH_SHAPE, facts)
    assert isinstance(template, OAuth2Template)
    assert template.supports_dynamic_registration is None


def test_a_bearer_challenge_without_metadata_derives_a_bearer_header() -> None:
    (template,) = auth.derive(AUTH_SHAPE, OAuthFacts())
    assert isinstance(template, ApiKeyTemplate)
    assert template.slug == "header"
    assert template.placements[0].prefix == "Bearer "


def test_case_16_replace_normalizes_slugs_from_kinds() -> None:
    declared = parse_templates(
        [
            {"kind": "oauth2"},
            {"kind": "apikey", "placements": [{"carrier": "header", "name": "Authorization"}]},
        ]
    )
    assert slugs(auth.combine(auth.DEFAULT, declared, "replace")) == ["oauth2", "header"]


def test_case_15_merge_keeps_the_derived_and_appends_the_declared() -> None:
    derived = auth.derive(AUTH_SHAPE, FACTS)
    declared = parse_templates(
        [{"kind": "apikey", "placements": [{"carrier": "header", "name": "X-Key"}]}]
    )
    merged = auth.enrich(auth.combine(derived, declared, None), FACTS)
    assert slugs(merged) == ["oauth2", "header"]
    descriptors = McpPlugin().describe_auth_methods(
        {"authenticationTemplate": dump_templates(merged)}
    )
    assert [d.kind for d in descriptors] == ["oauth", "apikey"]


def test_a_declared_oauth2_template_keeps_its_values_and_gains_discovered_ones() -> None:
    declared = parse_templates([{"kind": "oauth2", "scopes": ["mine"]}])
    (template,) = auth.enrich(auth.combine(auth.derive(AUTH_SHAPE, FACTS), declared, None), FACTS)
    assert isinstance(template, OAuth2Template)
    assert template.scopes == ["mine"]
    assert template.token_url == FACTS.token_endpoint


def test_two_declared_templates_of_one_kind_get_suffixes() -> None:
    declared = parse_templates([{"kind": "apikey"}, {"kind": "apikey"}, {"kind": "none"}])
    assert slugs(auth.combine([], declared, "replace")) == ["apikey", "apikey_2", "none"]


def test_an_explicit_empty_list_means_no_auth_methods() -> None:
    assert auth.combine(auth.DEFAULT, [], None) == []


def test_case_33_oauth_descriptor() -> None:
    template = auth.fill_oauth(OAuth2Template(slug="oauth2"), FACTS)
    (descriptor,) = McpPlugin().describe_auth_methods(
        {"transport": "remote", "authenticationTemplate": dump_templates([template])}
    )
    assert descriptor.kind == "oauth"
    assert descriptor.oauth is not None
    assert descriptor.oauth.discovery_url == FACTS.metadata_url
    assert descriptor.oauth.supports_dynamic_registration is False


def test_case_34_query_descriptor() -> None:
    template = ApiKeyTemplate(
        slug="query", placements=[AuthPlacement(carrier="query", name="token")]
    )
    (descriptor,) = McpPlugin().describe_auth_methods(
        {"authenticationTemplate": dump_templates([template])}
    )
    assert descriptor.label == "API key (token)"
    assert descriptor.placements is not None
    assert descriptor.placements[0].model_dump() == {
        "carrier": "query", "name": "token", "prefix": "", "variable": None, "literal": None
    }  # fmt: skip


@pytest.mark.parametrize(
    "config", [{}, {"authenticationTemplate": "x"}, {"authenticationTemplate": [{"kind": "?"}]}]
)
def test_case_35_malformed_config_describes_nothing(config: dict[str, Any]) -> None:
    assert McpPlugin().describe_auth_methods(config) == []


def test_selection_exact_slug_else_the_only_one() -> None:
    raw = dump_templates(parse_templates([{"kind": "none"}]))
    assert auth.select(raw, "whatever") is not None
    two = dump_templates(
        auth.combine([], parse_templates([{"kind": "none"}, {"kind": "oauth2"}]), None)
    )
    selected = auth.select(two, "oauth2")
    assert selected is not None and selected.kind == "oauth2"
    assert auth.select(two, "missing") is None


def test_apply_puts_credentials_in_headers_query_cookies_and_env() -> None:
    template = ApiKeyTemplate(
        slug="apikey",
        placements=[
            AuthPlacement(carrier="header", name="X-Key", prefix="Key "),
            AuthPlacement(carrier="query", name="sig", variable="sig"),
            AuthPlacement(carrier="cookie", name="session", variable="cookie"),
            AuthPlacement(carrier="env", name="API_TOKEN"),
        ],
    )
    url, headers, env = auth.apply(
        template,
        {"token": "t0k", "sig": "s1g", "cookie": "c00"},
        url="http://h/mcp?a=1",
        headers={"X-Static": "yes"},
    )
    assert url == "http://h/mcp?a=1&sig=s1g"
    assert headers == {"X-Static": "yes", "X-Key": "Key t0k", "cookie": "session=c00"}
    assert env == {"API_TOKEN": "t0k"}


def test_oauth2_sends_a_bearer_header() -> None:
    _, headers, _ = auth.apply(OAuth2Template(slug="oauth2"), {"token": "abc"}, url="u", headers={})
    assert headers == {"Authorization": "Bearer abc"}
