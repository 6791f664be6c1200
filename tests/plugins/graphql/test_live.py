"""Live introspection at connection time against real servers on loopback: credentials in each
placement, refused credentials, disabled introspection, outages that keep the last good tools
(incomplete, never an authoritative empty list), answers that are not GraphQL, and no credential
in any message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.http import LoopbackServer, Reply
from plugins.graphql.conftest import LOOPBACK, make_ctx, request
from plugins.graphql.servers import TOKEN, Running, cookie, graphql_app, header, query_param, serve
from switchboard.errors import (
    CredentialsRejectedError,
    IntrospectionDisabledError,
    SpecParseError,
    UnknownTemplateError,
    URLNotAllowedError,
)
from switchboard.models.records import IntegrationRecord
from switchboard.plugins.contract import ConnectionRequest, PluginContext
from switchboard.plugins.graphql import plugin
from switchboard.storage.outbound import OutboundClient, OutboundPolicy

BEARER = [
    {
        "kind": "apikey",
        "placements": [{"carrier": "header", "name": "Authorization", "prefix": "Bearer "}],
    }
]


async def integration(
    ctx: PluginContext, endpoint: str, templates: Any = None
) -> IntegrationRecord:
    config: dict[str, Any] = {"endpoint": endpoint}
    if templates is not None:
        config["authenticationTemplate"] = templates
    return (await plugin.register(request(config), ctx)).record


def connection(template: str, **values: str) -> ConnectionRequest:
    return ConnectionRequest(
        tenant="acme", owner="org", subject="", name="main", template=template, values=values
    )


async def test_live_introspection_with_the_connections_bearer_token(
    ctx: PluginContext, shop: Running
) -> None:
    record = await integration(ctx, shop.url, BEARER)
    assert record.config["authenticationTemplate"][0]["slug"] == "header"
    toolset = await plugin.resolve_tools(record, connection("header", token=TOKEN), ctx)
    assert not toolset.incomplete
    assert len(toolset.tools) == 12
    assert {"query.hello", "mutation.setGreeting", "subscription.petAdded"} <= {
        t.name for t in toolset.tools
    }
    assert "PetFilter" in toolset.definitions
    assert shop.app.seen[-1]["authorization"] == f"Bearer {TOKEN}"


async def test_registration_without_a_snapshot_makes_no_request(
    ctx: PluginContext, shop: Running
) -> None:
    registration = await plugin.register(request({"endpoint": shop.url}), ctx)
    assert shop.app.seen == []
    assert registration.toolset.tools == [] and not registration.toolset.incomplete
    assert registration.details == {"introspection": "live", "title": "127.0.0.1"}
    [condition] = registration.conditions
    assert (condition.type, condition.status, condition.reason) == (
        "ToolsDiscovered",
        "Unknown",
        "IntrospectedPerConnection",
    )
    assert registration.record.can_refresh is True


@pytest.mark.parametrize(
    ("check", "template", "reason"),
    [
        (
            header("x-api-key"),
            {"kind": "apikey", "placements": [{"carrier": "header", "name": "X-Api-Key"}]},
            "an API key header",
        ),
        (
            query_param("api_key"),
            {"kind": "apikey", "placements": [{"carrier": "query", "name": "api_key"}]},
            "a query parameter",
        ),
        (
            cookie("session"),
            {"kind": "apikey", "placements": [{"carrier": "cookie", "name": "session"}]},
            "a cookie",
        ),
        (
            header("x-token", "Token "),
            {"kind": "oauth2", "header": "X-Token", "prefix": "Token "},
            "an OAuth token in a configured header with a configured prefix",
        ),
    ],
)
async def test_each_placement_reaches_the_server(
    ctx: PluginContext, check: Any, template: dict[str, Any], reason: str
) -> None:
    with serve(graphql_app(check=check)) as running:
        record = await integration(ctx, running.url, [template])
        slug = record.config["authenticationTemplate"][0]["slug"]
        toolset = await plugin.resolve_tools(record, connection(slug, token=TOKEN), ctx)
    assert len(toolset.tools) == 12, reason


async def test_static_headers_and_query_params_are_sent(ctx: PluginContext, shop: Running) -> None:
    config = {
        "endpoint": shop.url + "?tenant=acme",
        "headers": {"X-Client": "switchboard-tests"},
        "queryParams": {"region": "eu"},
        "authenticationTemplate": BEARER,
    }
    record = (await plugin.register(request(config), ctx)).record
    await plugin.resolve_tools(record, connection("header", token=TOKEN), ctx)
    seen = shop.app.seen[-1]
    assert seen["x-client"] == "switchboard-tests"
    assert seen[":query"] == "tenant=acme&region=eu"


async def test_no_credentials_is_rejected_clearly(ctx: PluginContext, shop: Running) -> None:
    record = await integration(ctx, shop.url)
    with pytest.raises(CredentialsRejectedError) as caught:
        await plugin.resolve_tools(record, connection("none"), ctx)
    assert caught.value.reason == "CredentialsRejected"
    assert "answered 401" in str(caught.value)
    assert caught.value.field == "spec.graphql.endpoint"


async def test_a_wrong_credential_is_rejected_and_never_quoted(
    ctx: PluginContext, shop: Running
) -> None:
    # The server echoes the presented token in its error; our message must not.
    planted = "planted-wrong-token-4f1e"
    record = await integration(ctx, shop.url, BEARER)
    with pytest.raises(CredentialsRejectedError) as caught:
        await plugin.resolve_tools(record, connection("header", token=planted), ctx)
    text = str(caught.value)
    assert "answered 403" in text and "[redacted]" in text
    assert planted not in text and planted not in repr(caught.value.args)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


async def test_disabled_introspection_is_a_clear_condition(
    ctx: PluginContext, closed_shop: Running
) -> None:
    record = await integration(ctx, closed_shop.url)
    with pytest.raises(IntrospectionDisabledError) as caught:
        await plugin.resolve_tools(record, connection("none"), ctx)
    assert caught.value.reason == "IntrospectionDisabled"
    assert "introspection is disabled" in str(caught.value)
    assert "spec.graphql.introspection" in str(caught.value)


async def test_an_unknown_template_lists_the_known_ones(ctx: PluginContext, shop: Running) -> None:
    record = await integration(ctx, shop.url, BEARER)
    with pytest.raises(UnknownTemplateError, match=r"'oauth2' is not one of .*: header"):
        await plugin.resolve_tools(record, connection("oauth2", token=TOKEN), ctx)


def html(status: int) -> Reply:
    page = b"<!doctype html><html><body><h1>Something went wrong</h1></body></html>"
    return Reply(status, page, {"content-type": "text/html"})


OUTAGES = [
    (html(502), "answered 502", "an HTML error page from a proxy"),
    (Reply(503, b"", {"retry-after": "5"}), "answered 503", "service unavailable"),
    (Reply(429, b"slow down"), "answered 429", "rate limited"),
    (
        Reply(
            200,
            b'{"data": {"__schema": {"types": [{"kind": "OBJ',
            {"content-type": "application/json"},
        ),
        "broken JSON",
        "truncated JSON",
    ),
    (Reply(200, b"{}", delay=10), "within", "a server that never answers in time"),
]


@pytest.mark.parametrize(("reply", "needle", "reason"), OUTAGES, ids=[r for *_, r in OUTAGES])
async def test_outages_keep_the_last_good_tools(
    ctx: PluginContext, http_server: LoopbackServer, reply: Reply, needle: str, reason: str
) -> None:
    http_server.routes["/graphql"] = reply
    record = await integration(ctx, http_server.url + "/graphql", BEARER)
    toolset = await plugin.resolve_tools(record, connection("header", token=TOKEN), ctx)
    # Not an authoritative empty list (the reference's gap 8): the caller keeps what it has.
    assert toolset.incomplete, reason
    assert toolset.tools == []
    [condition] = toolset.conditions
    assert (condition.type, condition.status, condition.reason) == (
        "ToolsDiscovered",
        "False",
        "IntrospectionFailed",
    )
    assert needle in condition.message, (reason, condition.message)
    assert TOKEN not in condition.message


async def test_an_unreachable_endpoint_is_an_outage(ctx: PluginContext) -> None:
    record = await integration(ctx, "http://127.0.0.1:1/graphql")
    toolset = await plugin.resolve_tools(record, connection("none"), ctx)
    assert toolset.incomplete and toolset.conditions[0].reason == "IntrospectionFailed"


NOT_GRAPHQL = [
    (html(200), "text/html", "a web page"),
    (
        Reply(200, b'{"ok": true}', {"content-type": "application/json"}),
        "not a GraphQL",
        "other JSON",
    ),
    (Reply(404, b"not found", {"content-type": "text/plain"}), "answered 404", "no such path"),
    (Reply(405, b"", {}), "answered 405", "POST not allowed"),
]


@pytest.mark.parametrize(
    ("reply", "needle", "reason"), NOT_GRAPHQL, ids=[r for *_, r in NOT_GRAPHQL]
)
async def test_answers_that_are_not_graphql_fail_permanently(
    ctx: PluginContext, http_server: LoopbackServer, reply: Reply, needle: str, reason: str
) -> None:
    http_server.routes["/graphql"] = reply
    record = await integration(ctx, http_server.url + "/graphql")
    with pytest.raises(SpecParseError) as caught:
        await plugin.resolve_tools(record, connection("none"), ctx)
    assert needle in str(caught.value), reason
    assert caught.value.field == "spec.graphql.endpoint"


async def test_graphql_errors_with_a_200_mean_introspection_is_refused(
    ctx: PluginContext, http_server: LoopbackServer
) -> None:
    body = b'{"data": null, "errors": [{"message": "Access denied for __schema"}]}'
    http_server.routes["/graphql"] = Reply(200, body, {"content-type": "application/json"})
    record = await integration(ctx, http_server.url + "/graphql")
    with pytest.raises(IntrospectionDisabledError, match="Access denied for __schema"):
        await plugin.resolve_tools(record, connection("none"), ctx)


async def test_the_outbound_policy_applies(shop: Running, tmp_path: Path) -> None:
    strict = OutboundClient(OutboundPolicy())  # loopback not allowed
    try:
        ctx = make_ctx(strict, tmp_path)
        record = await integration(ctx, shop.url, BEARER)
        with pytest.raises(URLNotAllowedError) as caught:
            await plugin.resolve_tools(record, connection("header", token=TOKEN), ctx)
    finally:
        await strict.aclose()
    assert caught.value.field == "spec.graphql.endpoint"
    assert shop.app.seen == []


async def test_a_snapshot_integration_adds_no_per_connection_tools(
    ctx: PluginContext, shop: Running, shop_snapshot: bytes
) -> None:
    config = {"endpoint": shop.url, "introspection": {"inline": shop_snapshot.decode()}}
    record = (await plugin.register(request(config), ctx)).record
    toolset = await plugin.resolve_tools(record, connection("none"), ctx)
    assert toolset.tools == [] and not toolset.incomplete
    assert shop.app.seen == []


async def test_answers_over_the_size_cap_are_an_outage(shop: Running, tmp_path: Path) -> None:
    small = OutboundClient(OutboundPolicy.from_allow(LOOPBACK, max_bytes=2048))
    try:
        ctx = make_ctx(small, tmp_path)
        record = await integration(ctx, shop.url, BEARER)
        toolset = await plugin.resolve_tools(record, connection("header", token=TOKEN), ctx)
    finally:
        await small.aclose()
    assert toolset.incomplete
    assert "cap" in toolset.conditions[0].message
