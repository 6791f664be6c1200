"""The GraphQL detector against real servers: `high` on introspection, `medium` on GraphQL-shaped
errors, `low` on the `graphql` URL token (reference case 39), slugs (reference case 5), evidence,
and a detector that never raises."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.http import LoopbackServer, Reply
from plugins.graphql.conftest import make_ctx
from plugins.graphql.servers import Running
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.graphql import plugin
from switchboard.plugins.graphql.detecting import has_token, slug_from_host
from switchboard.storage.outbound import OutboundClient, OutboundPolicy


async def test_high_on_successful_introspection(ctx: PluginContext, open_shop: Running) -> None:
    result = await plugin.detect(f"  {open_shop.url}  ", ctx)
    assert result is not None
    assert (result.kind, result.confidence) == ("graphql", "high")
    assert result.endpoint == open_shop.url  # trimmed
    assert (result.name, result.slug) == ("127.0.0.1", "graphql_127_0_0_1")
    assert result.evidence == {
        "probe": "introspection",
        "status": 200,
        "contentType": "application/json",
        "queryType": "Query",
    }


async def test_medium_when_introspection_is_disabled(
    ctx: PluginContext, closed_shop: Running
) -> None:
    result = await plugin.detect(closed_shop.url, ctx)
    assert result is not None and result.confidence == "medium"
    assert result.evidence is not None
    assert result.evidence["status"] == 400
    assert "introspection is disabled" in result.evidence["error"]


async def test_medium_when_auth_is_required_with_graphql_errors(
    ctx: PluginContext, http_server: LoopbackServer
) -> None:
    body = b'{"errors": [{"message": "You must be logged in", "extensions": {"code": "UNAUTH"}}]}'
    http_server.routes["/api"] = Reply(401, body, {"content-type": "application/json"})
    result = await plugin.detect(http_server.url + "/api", ctx)
    assert result is not None and result.confidence == "medium"


async def test_a_gated_server_without_graphql_errors_is_low_by_its_url(
    ctx: PluginContext, shop: Running
) -> None:
    # The shop answers 401 with a plain JSON message (as GitHub does): only the URL says GraphQL.
    result = await plugin.detect(shop.url, ctx)
    assert result is not None and result.confidence == "low"
    assert result.evidence == {
        "probe": "introspection",
        "status": 401,
        "contentType": "application/json",
        "urlToken": "graphql",
    }


@pytest.mark.parametrize(
    ("path", "reply", "reason"),
    [
        ("/page", Reply(200, b"<html>hi</html>", {"content-type": "text/html"}), "a web page"),
        ("/json", Reply(200, b'{"ok": true}', {"content-type": "application/json"}), "other JSON"),
        ("/rpc", Reply(200, b'{"jsonrpc": "2.0", "error": {"code": -1}}'), "JSON-RPC, not GraphQL"),
        ("/missing", Reply(404, b"nope"), "not found"),
    ],
)
async def test_none_for_other_answers_without_the_token(
    ctx: PluginContext, http_server: LoopbackServer, path: str, reply: Reply, reason: str
) -> None:
    http_server.routes[path] = reply
    assert await plugin.detect(http_server.url + path, ctx) is None, reason


@pytest.mark.parametrize(
    ("url", "expected", "reason"),
    [
        ("http://127.0.0.1:1/api/graphql", "low", "reference case 39: the path token"),
        ("http://graphql.localhost:1/", "low", "reference case 39: a host label"),
        ("http://127.0.0.1:1/v1/GraphQL/", "low", "case does not matter"),
        ("http://127.0.0.1:1/graphqlite", None, "reference case 39: not a bounded token"),
        ("http://127.0.0.1:1/api/v1", None, "no token"),
        ("ftp://127.0.0.1/graphql", None, "not http(s)"),
        ("not a url", None, "unparseable"),
        ("", None, "empty"),
    ],
)
async def test_url_token_fallback(
    ctx: PluginContext, url: str, expected: str | None, reason: str
) -> None:
    result = await plugin.detect(url, ctx)
    assert (result.confidence if result else None) == expected, reason


async def test_a_refused_probe_still_falls_back_to_the_token(tmp_path: Path) -> None:
    strict = OutboundClient(OutboundPolicy())  # loopback refused
    try:
        result = await plugin.detect("http://127.0.0.1:1/graphql", make_ctx(strict, tmp_path))
    finally:
        await strict.aclose()
    assert result is not None and result.confidence == "low"
    assert result.evidence == {
        "probe": "introspection",
        "error": "URLNotAllowed",
        "urlToken": "graphql",
    }


async def test_a_hanging_endpoint_is_bounded_by_the_detection_deadline(
    ctx: PluginContext, http_server: LoopbackServer
) -> None:
    http_server.routes["/graphql"] = Reply(200, b"{}", delay=30)
    started = time.monotonic()
    result = await plugin.detect(http_server.url + "/graphql", ctx)
    assert time.monotonic() - started < ctx.detect_deadline + 1.5
    assert result is not None and result.confidence == "low"
    assert result.evidence is not None and result.evidence["error"] == "FetchFailed"


async def test_the_probe_is_small(ctx: PluginContext, http_server: LoopbackServer) -> None:
    http_server.routes["/graphql"] = Reply(200, b"{}")
    await plugin.detect(http_server.url + "/graphql", ctx)
    [seen] = http_server.requests
    assert seen.method == "POST" and len(seen.body) < 200
    assert b"__schema" in seen.body and b"fields" not in seen.body


@pytest.mark.parametrize(
    ("host", "slug", "reason"),
    [
        ("api.github.com", "api_github_com", "reference case 5"),
        ("localhost", "localhost", "reference case 5"),
        ("::1", "graphql_1", "the reference's `_1_`, trimmed and starting with a letter"),
        ("127.0.0.1", "graphql_127_0_0_1", "an address"),
        ("", "graphql", "nothing left: the reference's fallback"),
        ("switchboard", "switchboard_graphql", "the reserved slug is avoided"),
        ("a" * 80 + ".example", "a" * 63, "cut to the slug length"),
    ],
)
def test_slug_from_host(host: str, slug: str, reason: str) -> None:
    assert slug_from_host(host) == slug, reason


def test_has_token_checks_host_and_path_only() -> None:
    assert has_token("https://x.example/graphql?x=1")
    assert not has_token("https://x.example/api?q=graphql")
    assert has_token("https://graphql.x.example/")
    assert not has_token("https://mygraphql.example/")
