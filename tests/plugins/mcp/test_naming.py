"""Slugs a server suggests, tool ids, and the URL-token test (reference cases 1-4, 9, 38)."""

from __future__ import annotations

import pytest

from switchboard.plugins.mcp.naming import has_url_token, server_slug, slugify, tool_ids


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"name": "GitHub MCP"}, "github_mcp"),  # case 1
        ({"endpoint": "https://api.example.com/mcp"}, "api_example_com"),  # case 2
        ({"command": "/usr/local/bin/my-mcp-server"}, "my_mcp_server"),  # case 3
        ({}, "mcp"),
        ({"name": "!!!"}, "mcp"),
        ({"endpoint": "https://mcp.deepwiki.com/mcp"}, "mcp_deepwiki_com"),  # case 4
        ({"endpoint": "http://127.0.0.1:8080/mcp"}, "mcp_127_0_0_1"),  # must start with a letter
        ({"name": "Switchboard"}, "switchboard_mcp"),  # reserved slug
        ({"name": "Ünïcode Server"}, "unicode_server"),
    ],
)
def test_server_slug(kwargs: dict[str, str], expected: str) -> None:
    assert server_slug(**kwargs) == expected


def test_slugify_caps_the_length() -> None:
    assert len(slugify("x" * 200)) == 63


@pytest.mark.parametrize(
    ("names", "ids"),
    [
        (["My Tool!!", "My Tool!!"], ["my_tool", "my_tool_2"]),  # case 9
        (["???"], ["tool"]),
        (["get_weather", "Get-Weather"], ["get_weather", "get_weather_2"]),
        (["a", "a", "a_2"], ["a", "a_2", "a_2_2"]),  # a suffixed id never collides later
        (["  Search Docs  "], ["search_docs"]),
    ],
)
def test_tool_ids(names: list[str], ids: list[str]) -> None:
    assert tool_ids(names) == ids


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:1/api/mcp", True),  # case 38
        ("http://mcp.127.0.0.1.nip.io:1/", True),
        ("http://127.0.0.1:1/mcpstore", False),
        ("http://127.0.0.1:1/api/v1", False),
        ("https://example.com/MCP/", True),
        ("not a url", False),
    ],
)
def test_url_token(url: str, expected: bool) -> None:
    assert has_url_token(url) is expected
