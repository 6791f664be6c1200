"""The OpenAPI detector against real servers on loopback: `high` when the URL is a document,
`medium` when a well-known location under it has one, nothing otherwise; probing stops at the
first document found."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import yaml

from harness.http import LoopbackServer, Reply, Seen
from switchboard.errors import URLNotAllowedError
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.openapi import plugin
from switchboard.plugins.openapi.detecting import (
    FULL_PARSE_LIMIT,
    WELL_KNOWN,
    candidates,
    inspect,
)
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy

PETSTORE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Swagger Petstore - OpenAPI 3.0", "version": "1"},
    "paths": {"/pets": {"get": {"operationId": "listPets", "responses": {"200": {}}}}},
}
JSON = {"content-type": "application/json"}
HTML = {"content-type": "text/html; charset=utf-8"}


@pytest.fixture
async def ctx() -> AsyncIterator[PluginContext]:
    http = OutboundClient(OutboundPolicy.from_allow(["127.0.0.0/8", "::1"]))
    yield PluginContext(documents=SourceReader(http=http, max_bytes=64 << 20), http=http)
    await http.aclose()


async def test_high_when_the_url_is_a_json_document(
    http_server: LoopbackServer, ctx: PluginContext
) -> None:
    http_server.routes["/spec.json"] = Reply(200, orjson.dumps(PETSTORE), JSON)
    result = await plugin.detect(f"{http_server.url}/spec.json", ctx)
    assert result is not None
    assert (result.kind, result.confidence) == ("openapi", "high")
    assert result.endpoint == f"{http_server.url}/spec.json"
    assert result.name == "Swagger Petstore - OpenAPI 3.0"
    assert result.slug == "swagger_petstore_openapi_3_0"
    assert result.evidence == {
        "probe": "url",
        "status": 200,
        "contentType": "application/json",
        "bytes": len(orjson.dumps(PETSTORE)),
        "openapi": "3.1.0",
        "parsed": "full",
    }
    assert len(http_server.requests) == 1  # nothing else probed


@pytest.mark.parametrize(
    ("document", "field", "version"),
    [
        ({**PETSTORE, "openapi": "3.0.3"}, "openapi", "3.0.3"),
        ({"swagger": "2.0", "info": {"title": "Old"}, "paths": {}}, "swagger", "2.0"),
        ({"swagger": 2.0, "info": {"title": "Old"}, "paths": {}}, "swagger", "2.0"),  # unquoted
    ],
)
async def test_high_when_the_url_is_a_yaml_document(
    http_server: LoopbackServer,
    ctx: PluginContext,
    document: dict[str, Any],
    field: str,
    version: str,
) -> None:
    body = yaml.safe_dump(document).encode()
    http_server.routes["/api.yaml"] = Reply(200, body, {"content-type": "text/plain"})
    result = await plugin.detect(f"{http_server.url}/api.yaml", ctx)
    assert result is not None
    assert result.confidence == "high"
    assert result.evidence is not None
    assert result.evidence[field] == version


async def test_a_large_yaml_document_is_recognized_without_parsing_it(
    http_server: LoopbackServer, ctx: PluginContext
) -> None:
    filler = "".join(f"  /p{i}:\n    get:\n      operationId: op{i}\n" for i in range(120_000))
    body = f"openapi: '3.0.1'\ninfo:\n  version: '2'\n  title: \"Huge API\"\npaths:\n{filler}"
    assert len(body) > FULL_PARSE_LIMIT
    http_server.routes["/huge.yaml"] = Reply(200, body.encode(), {"content-type": "text/yaml"})
    result = await plugin.detect(f"{http_server.url}/huge.yaml", ctx)
    assert result is not None
    assert (result.confidence, result.name) == ("high", "Huge API")
    assert result.evidence is not None
    assert result.evidence["parsed"] == "sniffed"


@pytest.mark.parametrize(
    ("base", "location"),
    [
        ("/", "/openapi.json"),
        ("/", "/swagger.json"),
        ("/", "/.well-known/openapi"),
        ("/docs", "/docs/api-docs"),  # under the URL's path first
        ("/docs", "/openapi.json"),  # then at the origin
        ("/api/v1/index.html", "/api/v1/openapi.yaml"),  # a page's folder
    ],
)
async def test_medium_when_a_well_known_location_has_the_document(
    http_server: LoopbackServer, ctx: PluginContext, base: str, location: str
) -> None:
    http_server.routes[base] = Reply(200, b"<html>Swagger UI</html>", HTML)
    body = orjson.dumps(PETSTORE) if location.endswith("json") else yaml.safe_dump(PETSTORE)
    http_server.routes[location] = Reply(
        200, body if isinstance(body, bytes) else body.encode(), JSON
    )
    result = await plugin.detect(f"{http_server.url}{base}", ctx)
    assert result is not None
    assert (result.confidence, result.endpoint) == ("medium", f"{http_server.url}{location}")
    assert result.evidence is not None
    assert result.evidence["probe"] == location
    assert result.evidence["urlResponse"] == {"status": 200, "contentType": "text/html"}
    # Reading stopped at the document: it was downloaded once, and nothing was read after it.
    gets = [r.path for r in http_server.requests if r.method == "GET"]
    assert gets[-1] == location
    assert gets.count(location) == 1


async def test_locations_whose_head_is_unsupported_are_read_with_get(
    http_server: LoopbackServer, ctx: PluginContext
) -> None:
    def no_head(seen: Seen) -> Reply:
        if seen.method == "HEAD":
            return Reply(405, b"", {"allow": "GET"})
        return Reply(200, orjson.dumps(PETSTORE), JSON)

    http_server.routes["/"] = Reply(200, b"<html></html>", HTML)
    http_server.routes["/api-docs"] = no_head
    result = await plugin.detect(f"{http_server.url}/", ctx)
    assert result is not None
    assert result.endpoint == f"{http_server.url}/api-docs"


async def test_html_and_missing_locations_are_never_downloaded(
    http_server: LoopbackServer, ctx: PluginContext
) -> None:
    page = Reply(200, b"<html>single-page app</html>", HTML)
    http_server.routes["/"] = page
    for path in ("/openapi.json", "/swagger.json", "/api-docs"):  # a catch-all serving the app
        http_server.routes[path] = page
    assert await plugin.detect(f"{http_server.url}/", ctx) is None
    assert [r.path for r in http_server.requests if r.method == "GET"] == ["/"]
    assert len(http_server.requests) == 1 + len(candidates(f"{http_server.url}/"))


async def test_nothing_when_no_document_is_anywhere(
    http_server: LoopbackServer, ctx: PluginContext
) -> None:
    http_server.routes["/graphql"] = Reply(400, b'{"errors":[{"message":"no query"}]}', JSON)
    url = f"{http_server.url}/graphql"
    assert await plugin.detect(url, ctx) is None
    assert len(http_server.requests) == 1 + len(candidates(url))


@pytest.mark.parametrize(
    "body",
    [
        b'{"openapi": "2.5", "info": {}, "paths": {}}',  # not a 3.x version
        b'{"openapi": "3.0.0"}',  # a version and nothing of a document
        b'{"data": {"__schema": {}}}',  # GraphQL, not OpenAPI
        b"<!doctype html><title>openapi: 3.0.0</title>",
        b"openapi: [3",  # broken YAML
        b"",
    ],
)
async def test_a_url_that_is_not_a_document_is_not_high(
    http_server: LoopbackServer, ctx: PluginContext, body: bytes
) -> None:
    http_server.routes["/x"] = Reply(200, body, {"content-type": "application/octet-stream"})
    assert await plugin.detect(f"{http_server.url}/x", ctx) is None


async def test_the_title_falls_back_to_the_host(
    http_server: LoopbackServer, ctx: PluginContext
) -> None:
    untitled = {"openapi": "3.0.0", "info": {"title": "  "}, "paths": {}}
    http_server.routes["/spec"] = Reply(200, orjson.dumps(untitled), JSON)
    result = await plugin.detect(f"{http_server.url}/spec", ctx)
    assert result is not None
    assert (result.name, result.slug) == ("127.0.0.1", "127_0_0_1")


async def test_a_refused_url_raises_for_the_fan_out_to_report(
    http_server: LoopbackServer,
) -> None:
    http = OutboundClient(OutboundPolicy())  # loopback not allowed
    ctx = PluginContext(documents=SourceReader(http=http, max_bytes=1 << 20), http=http)
    try:
        with pytest.raises(URLNotAllowedError):
            await plugin.detect(f"{http_server.url}/spec.json", ctx)
    finally:
        await http.aclose()
    assert http_server.requests == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"openapi":"3.1.0","info":{"title":"A"},"paths":{}}', ("openapi", "3.1.0", "A")),
        (b'  {"swagger":"2.0","paths":{}}', ("swagger", "2.0", None)),  # leading space
        (b"openapi: 3.0.0\ninfo:\n  title: 'Q'\npaths: {}\n", ("openapi", "3.0.0", "Q")),
        (b'{"openapi":"3.0.0","webhooks":{}}', ("openapi", "3.0.0", None)),  # 3.1 webhooks-only
        (b'["openapi"]', None),
        (b"just text", None),
    ],
)
def test_inspect(body: bytes, expected: tuple[str, str, str | None] | None) -> None:
    found = inspect(body, limit=1 << 20)
    assert (None if found is None else (found.field, found.version, found.title)) == expected


def test_candidates_are_under_the_url_then_at_the_origin() -> None:
    got = candidates("https://h.example/api/v2")
    assert got[: len(WELL_KNOWN)] == [f"https://h.example/api/v2/{p}" for p in WELL_KNOWN]
    assert got[len(WELL_KNOWN)] == "https://h.example/.well-known/openapi"
    assert got[-1] == f"https://h.example/{WELL_KNOWN[-1]}"
    assert len(got) == len(set(got))
    at_root = candidates("https://h.example")
    assert at_root[0] == "https://h.example/openapi.json"
    assert len(at_root) == len(WELL_KNOWN) + 1  # the origin's list is the URL's list
