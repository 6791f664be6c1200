"""Auth templates and their descriptors for GraphQL (reference §5.3, §6): kind-default slugs with
`_2` on collisions, `none` when nothing is declared, merge and replace alike, the reference's
descriptor shapes, and `[]` for malformed or foreign configs."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.graphql.conftest import request
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.graphql import plugin

ENDPOINT = "https://api.example.com/graphql"
BEARER = {"carrier": "header", "name": "Authorization", "prefix": "Bearer "}


async def descriptors(
    ctx: PluginContext, templates: Any, mode: str | None = None
) -> list[dict[str, Any]]:
    config: dict[str, Any] = {"endpoint": ENDPOINT}
    if templates is not None:
        config["authenticationTemplate"] = templates
    if mode is not None:
        config["authenticationMode"] = mode
    record = (await plugin.register(request(config), ctx)).record
    return [d.dump() for d in plugin.describe_auth_methods(record.config)]


CASES: list[tuple[Any, list[dict[str, Any]], str]] = [
    (
        None,
        [{"id": "none", "label": "No authentication", "kind": "none", "template": "none"}],
        "nothing declared: a public endpoint",
    ),
    (
        [],
        [{"id": "none", "label": "No authentication", "kind": "none", "template": "none"}],
        "an explicit empty list: no auth either",
    ),
    (
        [{"kind": "apikey", "placements": [BEARER]}],
        [
            {
                "id": "header",
                "label": "API key (Authorization)",
                "kind": "apikey",
                "template": "header",
                "placements": [BEARER],
            }
        ],
        "one header placement: slug `header`",
    ),
    (
        [{"kind": "apikey", "placements": [{"carrier": "query", "name": "access_token"}]}],
        [
            {
                "id": "query",
                "label": "API key (access_token)",
                "kind": "apikey",
                "template": "query",
                "placements": [{"carrier": "query", "name": "access_token", "prefix": ""}],
            }
        ],
        "one query placement: slug `query`, prefix shown as empty",
    ),
    (
        [
            {
                "kind": "apikey",
                "label": "Key and secret",
                "placements": [
                    {"carrier": "header", "name": "X-Key", "variable": "key"},
                    {"carrier": "header", "name": "X-Secret", "variable": "secret"},
                    {"carrier": "header", "name": "X-Client", "literal": "switchboard"},
                ],
            }
        ],
        [
            {
                "id": "apikey",
                "label": "Key and secret",
                "kind": "apikey",
                "template": "apikey",
                "placements": [
                    {"carrier": "header", "name": "X-Key", "prefix": "", "variable": "key"},
                    {"carrier": "header", "name": "X-Secret", "prefix": "", "variable": "secret"},
                    {
                        "carrier": "header",
                        "name": "X-Client",
                        "prefix": "",
                        "literal": "switchboard",
                    },
                ],
            }
        ],
        "several placements: slug `apikey`; variables and literals shown only when set",
    ),
    (
        [{"kind": "oauth2", "header": "X-Token", "prefix": "Token "}],
        [
            {
                "id": "oauth2",
                "label": "OAuth",
                "kind": "oauth",
                "template": "oauth2",
                "oauth": {"scopes": []},
            }
        ],
        "oauth2: the reference's GraphQL label",
    ),
    (
        [
            {"kind": "none"},
            {"kind": "apikey", "placements": [BEARER]},
            {"kind": "apikey", "placements": [{"carrier": "header", "name": "X-Api-Key"}]},
            {
                "kind": "apikey",
                "slug": "  partner  ",
                "placements": [{"carrier": "cookie", "name": "s"}],
            },
        ],
        [
            {"id": "none", "label": "No authentication", "kind": "none", "template": "none"},
            {
                "id": "header",
                "label": "API key (Authorization)",
                "kind": "apikey",
                "template": "header",
                "placements": [BEARER],
            },
            {
                "id": "header_2",
                "label": "API key (X-Api-Key)",
                "kind": "apikey",
                "template": "header_2",
                "placements": [{"carrier": "header", "name": "X-Api-Key", "prefix": ""}],
            },
            {
                "id": "partner",
                "label": "API key (s)",
                "kind": "apikey",
                "template": "partner",
                "placements": [{"carrier": "cookie", "name": "s", "prefix": ""}],
            },
        ],
        "collisions get `_2`; a caller slug is trimmed and wins",
    ),
]


@pytest.mark.parametrize(("templates", "expected", "reason"), CASES, ids=[c[2] for c in CASES])
async def test_descriptors(
    ctx: PluginContext, templates: Any, expected: list[dict[str, Any]], reason: str
) -> None:
    assert await descriptors(ctx, templates) == expected, reason


async def test_merge_and_replace_agree_for_graphql(ctx: PluginContext) -> None:
    templates = [{"kind": "apikey", "placements": [BEARER]}, {"kind": "oauth2"}]
    merged = await descriptors(ctx, templates, "merge")
    replaced = await descriptors(ctx, templates, "replace")
    assert merged == replaced
    assert [d["template"] for d in merged] == ["header", "oauth2"]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({}, "no templates at all"),
        ({"authenticationTemplate": None}, "null"),
        ({"authenticationTemplate": "header"}, "not a list"),
        ({"authenticationTemplate": [{"kind": "magic"}]}, "an unknown kind"),
        (
            {"authenticationTemplate": [{"kind": "apikey", "placements": [{"carrier": "x"}]}]},
            "bad placement",
        ),
        ({"specHash": "abc", "sourceUrl": "https://x"}, "an OpenAPI config"),
    ],
)
def test_malformed_or_foreign_configs_describe_nothing(config: dict[str, Any], reason: str) -> None:
    assert plugin.describe_auth_methods(config) == [], reason


def test_display_url_hides_user_info_and_query() -> None:
    assert plugin.describe_display({"endpoint": "https://api.example.com/graphql?key=1"}) == (
        "https://api.example.com/graphql"
    )
    assert plugin.describe_display({}) is None
    assert plugin.describe_display({"endpoint": 7}) is None


def test_the_plugin_loads_through_its_entry_point() -> None:
    from switchboard.plugins.registry import load_plugins

    loaded = load_plugins(["graphql"]).get("graphql")
    assert loaded.id == "graphql"
    assert type(loaded).__name__ == "GraphqlPlugin"
