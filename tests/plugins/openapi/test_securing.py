"""Auth templates derived from security schemes: executor-behavior.md cases 19-31 as a table
(each row says why), operation-level security, and declared templates merged or replacing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plugins.openapi.helpers import openapi, register, templates, tool
from switchboard.plugins.openapi import plugin

BEARER = {"type": "http", "scheme": "bearer"}
OP = {"/items": {"get": {"operationId": "list", "responses": {"200": {"description": "ok"}}}}}


def doc(schemes: dict[str, Any], security: Any = None, **top: Any) -> dict[str, Any]:
    document = openapi(OP, components={"securitySchemes": schemes}, **top)
    if security is not None:
        document["security"] = security
    return document


def header(name: str, prefix: str | None = None, variable: str | None = None) -> dict[str, Any]:
    placement: dict[str, Any] = {"carrier": "header", "name": name}
    if prefix:
        placement["prefix"] = prefix
    if variable:
        placement["variable"] = variable
    return placement


CASES = [
    pytest.param(
        doc({"auth_token": BEARER}, [{"auth_token": []}]),
        [
            {
                "kind": "apikey",
                "slug": "apikey-0",
                "placements": [header("Authorization", "Bearer ")],
            }
        ],
        id="19: http bearer is an Authorization header with a Bearer prefix",
    ),
    pytest.param(
        doc({"b": {"type": "http", "scheme": "basic"}}, [{"b": []}]),
        [{"kind": "apikey", "slug": "apikey-0", "placements": [header("Authorization", "Basic ")]}],
        id="20: http basic gets the Basic prefix",
    ),
    pytest.param(
        doc({"api_key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}),
        [{"kind": "apikey", "slug": "apikey-0", "placements": [header("X-API-Key")]}],
        id="21: apiKey in a header; no document security means each scheme alone",
    ),
    pytest.param(
        doc(
            {
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "DD-API-KEY"},
                "appKeyAuth": {"type": "apiKey", "in": "header", "name": "DD-APPLICATION-KEY"},
            },
            [{"apiKeyAuth": [], "appKeyAuth": []}],
        ),
        [
            {
                "kind": "apikey",
                "slug": "apikey-0",
                "placements": [
                    header("DD-API-KEY", variable="dd_api_key"),
                    header("DD-APPLICATION-KEY", variable="dd_application_key"),
                ],
            }
        ],
        id="22: schemes required together are one template with a variable each",
    ),
    pytest.param(
        doc(
            {"bearer": BEARER, "key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
            [{"bearer": []}, {"key": []}],
        ),
        [
            {
                "kind": "apikey",
                "slug": "apikey-0",
                "placements": [header("Authorization", "Bearer ")],
            },
            {"kind": "apikey", "slug": "apikey-1", "placements": [header("X-Key")]},
        ],
        id="23: alternatives are separate templates in order",
    ),
    pytest.param(
        doc(
            {
                "oauth_app": {
                    "type": "oauth2",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": "/oauth/authorize",
                            "tokenUrl": "/oauth/token",
                            "scopes": {"read": "", "write": ""},
                        }
                    },
                }
            },
            [{"oauth_app": ["read"]}],
            servers=[{"url": "https://api.example.com/v1"}],
        ),
        [
            {
                "kind": "oauth2",
                "slug": "oauth-oauth_app",
                "label": "OAuth2 Authorization Code · oauth_app",
                "flow": "authorizationCode",
                "authorizationUrl": "https://api.example.com/oauth/authorize",
                "tokenUrl": "https://api.example.com/oauth/token",
                "scopes": ["read", "write", "openid", "email", "profile"],
            }
        ],
        id="24: relative OAuth URLs resolve against the first server; identity scopes added",
    ),
    pytest.param(
        doc(
            {
                "cc": {
                    "type": "oauth2",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": "https://a.example/auth",
                            "tokenUrl": "https://a.example/token",
                            "scopes": {},
                        },
                        "clientCredentials": {
                            "tokenUrl": "https://a.example/token",
                            "scopes": {"admin:read": ""},
                        },
                    },
                }
            }
        ),
        [
            {
                "kind": "oauth2",
                "slug": "oauth-cc",
                "label": "OAuth2 Authorization Code · cc",
                "flow": "authorizationCode",
                "authorizationUrl": "https://a.example/auth",
                "tokenUrl": "https://a.example/token",
                "scopes": ["openid", "email", "profile"],
            },
            {
                "kind": "oauth2",
                "slug": "oauth-cc-client-credentials",
                "label": "OAuth2 Client Credentials · cc",
                "flow": "clientCredentials",
                "tokenUrl": "https://a.example/token",
                "scopes": ["admin:read"],
            },
        ],
        id="25 [gap fixed]: two flows on one scheme get distinct slugs; no identity scopes for "
        "client credentials",
    ),
    pytest.param(
        doc(
            {
                "broken": {
                    "type": "oauth2",
                    "flows": {
                        "authorizationCode": {"authorizationUrl": "https://a/x", "scopes": {}}
                    },
                }
            }
        ),
        [],
        id="26: an authorization-code flow without tokenUrl gives no template",
    ),
    pytest.param(
        doc(
            {
                "api_token": {"$ref": "#/components/securitySchemes/_api_token_impl"},
                "_api_token_impl": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
            [{"api_token": []}],
        ),
        [
            {
                "kind": "apikey",
                "slug": "apikey-0",
                "placements": [header("Authorization", "Bearer ")],
            }
        ],
        id="27: a security scheme given by $ref is resolved",
    ),
    pytest.param(
        doc({"api_key": {"type": "apiKey", "in": "query", "name": "api_key"}}),
        [
            {
                "kind": "apikey",
                "slug": "apikey-0",
                "placements": [{"carrier": "query", "name": "api_key"}],
            }
        ],
        id="29 [gap fixed]: apiKey in the query is sent as a query parameter",
    ),
    pytest.param(
        doc({"session": {"type": "apiKey", "in": "cookie", "name": "sid"}}),
        [
            {
                "kind": "apikey",
                "slug": "apikey-0",
                "placements": [{"carrier": "cookie", "name": "sid"}],
            }
        ],
        id="29 [gap fixed]: apiKey in a cookie is sent as a cookie",
    ),
    pytest.param(
        doc({"d": {"type": "http", "scheme": "Digest"}}),
        [
            {
                "kind": "apikey",
                "slug": "apikey-0",
                "placements": [header("Authorization", "Digest ")],
            }
        ],
        id="29 [gap fixed]: other http schemes send `<Scheme> <value>`",
    ),
    pytest.param(
        doc(
            {
                "oidc": {
                    "type": "openIdConnect",
                    "openIdConnectUrl": "/.well-known/openid-configuration",
                }
            },
            servers=[{"url": "https://id.example.com/api"}],
        ),
        [
            {
                "kind": "oauth2",
                "slug": "oauth-oidc",
                "label": "OpenID Connect · oidc",
                "discoveryUrl": "https://id.example.com/.well-known/openid-configuration",
                "scopes": ["openid", "email", "profile"],
            }
        ],
        id="31 [gap fixed]: openIdConnect becomes an OAuth template with its discovery URL",
    ),
    pytest.param(
        doc(
            {
                "legacy": {
                    "type": "oauth2",
                    "flows": {
                        "implicit": {"authorizationUrl": "https://a/auth", "scopes": {"r": ""}},
                        "password": {"tokenUrl": "https://a/token", "scopes": {}},
                    },
                }
            }
        ),
        [
            {
                "kind": "oauth2",
                "slug": "oauth-legacy",
                "label": "OAuth2 Implicit · legacy",
                "flow": "implicit",
                "authorizationUrl": "https://a/auth",
                "scopes": ["r"],
            },
            {
                "kind": "oauth2",
                "slug": "oauth-legacy-password",
                "label": "OAuth2 Password · legacy",
                "flow": "password",
                "tokenUrl": "https://a/token",
                "scopes": [],
            },
        ],
        id="gap 3 fixed: implicit and password flows are kept",
    ),
    pytest.param(
        openapi(OP),
        [{"kind": "none", "slug": "none"}],
        id="no security schemes at all: the API is public (`none`)",
    ),
]


@pytest.mark.parametrize(("document", "expected"), CASES)
async def test_derived_templates(tmp_path: Path, document: dict[str, Any], expected: Any) -> None:
    registration = await register(tmp_path, document)
    assert templates(registration) == expected


async def test_case_21_descriptor_label(tmp_path: Path) -> None:
    registration = await register(
        tmp_path, doc({"api_key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}})
    )
    [method] = plugin.describe_auth_methods(registration.record.config)
    assert method.label == "API key (X-API-Key)"
    assert method.kind == "apikey"


async def test_case_26_warns(tmp_path: Path) -> None:
    broken = {"type": "oauth2", "flows": {"authorizationCode": {"authorizationUrl": "https://a"}}}
    registration = await register(tmp_path, doc({"broken": broken}))
    assert any("broken" in w for w in registration.warnings)


async def test_case_28_explicit_empty_list_means_no_auth(tmp_path: Path) -> None:
    registration = await register(
        tmp_path, doc({"auth_token": BEARER}), config={"authenticationTemplate": []}
    )
    assert templates(registration) == []
    assert plugin.describe_auth_methods(registration.record.config) == []


async def test_operation_security_overrides_and_is_recorded_per_tool(tmp_path: Path) -> None:
    paths = {
        "/a": {"get": {"operationId": "read", "responses": {}}},
        "/b": {"get": {"operationId": "read", "security": [{"key": []}], "responses": {}}},
        "/c": {"get": {"operationId": "read", "security": [], "responses": {}}},
        "/d": {
            "get": {"operationId": "read", "security": [{"key": [], "bearer": []}], "responses": {}}
        },
    }
    document = openapi(
        paths,
        components={
            "securitySchemes": {
                "bearer": BEARER,
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
            }
        },
        security=[{"bearer": []}],
    )
    registration = await register(tmp_path, document)
    slugs = [t["slug"] for t in templates(registration)]
    assert slugs == ["none", "apikey-0", "apikey-1", "apikey-2"]
    assert templates(registration)[3]["placements"] == [
        header("X-Key", variable="x_key"),
        header("Authorization", "Bearer ", variable="authorization"),
    ]
    accepted = {t.name: t.binding["templates"] for t in registration.toolset.tools}
    assert accepted == {
        "a.read": ["apikey-0"],
        "b.read": ["apikey-1"],
        "c.read": ["none"],
        "d.read": ["apikey-2"],
    }


async def test_operation_oauth_scopes_accept_every_flow_template(tmp_path: Path) -> None:
    flows = {
        "authorizationCode": {"authorizationUrl": "https://a/x", "tokenUrl": "https://a/t"},
        "clientCredentials": {"tokenUrl": "https://a/t"},
    }
    paths = {"/a": {"get": {"operationId": "read", "security": [{"o": ["r"]}], "responses": {}}}}
    document = openapi(
        paths, components={"securitySchemes": {"o": {"type": "oauth2", "flows": flows}}}
    )
    registration = await register(tmp_path, document)
    assert tool(registration, "a.read").binding["templates"] == [
        "oauth-o",
        "oauth-o-client-credentials",
    ]


DECLARED = [{"slug": "partner", "kind": "apikey", "placements": [header("X-Partner")]}]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(
            {"authenticationTemplate": DECLARED}, ["apikey-0", "partner"], id="merge appends"
        ),
        pytest.param(
            {"authenticationTemplate": [{**DECLARED[0], "slug": "apikey-0"}]},
            ["apikey-0"],
            id="merge replaces a derived template with the same slug in place",
        ),
        pytest.param(
            {"authenticationTemplate": DECLARED, "authenticationMode": "replace"},
            ["partner"],
            id="replace keeps only the declared templates",
        ),
    ],
)
async def test_declared_templates(
    tmp_path: Path, config: dict[str, Any], expected: list[str]
) -> None:
    registration = await register(tmp_path, doc({"t": BEARER}, [{"t": []}]), config=config)
    assert [t["slug"] for t in templates(registration)] == expected


async def test_swagger_security_definitions(tmp_path: Path) -> None:
    document = {
        "swagger": "2.0",
        "info": {"title": "Old"},
        "host": "old.example.com",
        "paths": {"/x": {"get": {"operationId": "x", "responses": {"200": {"description": ""}}}}},
        "securityDefinitions": {
            "basic": {"type": "basic"},
            "key": {"type": "apiKey", "in": "query", "name": "k"},
            "oauth": {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": "https://old.example.com/auth",
                "tokenUrl": "https://old.example.com/token",
                "scopes": {"read": ""},
            },
        },
        "security": [{"basic": []}, {"key": []}, {"oauth": ["read"]}],
    }
    registration = await register(tmp_path, document)
    found = templates(registration)
    assert [t["slug"] for t in found] == ["apikey-0", "apikey-1", "oauth-oauth"]
    assert found[0]["placements"] == [header("Authorization", "Basic ")]
    assert found[1]["placements"] == [{"carrier": "query", "name": "k"}]
    assert found[2]["flow"] == "authorizationCode"
