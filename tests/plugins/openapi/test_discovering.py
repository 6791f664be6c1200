"""Discovered OAuth (executor-behavior.md §7.4, case 30): candidate URLs and scopes as tables, then
registrations against a real loopback host publishing RFC 9728 and RFC 8414 / OpenID metadata,
one publishing none, one that hangs, one that fails once; and no probing unless asked."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from harness.http import LoopbackServer, Reply, Seen
from plugins.openapi.helpers import make_ctx, openapi, register, templates, tool
from switchboard.plugins.contract import PluginContext, RegistrationRequest
from switchboard.plugins.oauthmeta import OAuthFacts
from switchboard.plugins.openapi.discovering import (
    MAX_CANDIDATES,
    SLUG,
    candidates,
    make_template,
    requested_scopes,
)
from switchboard.plugins.openapi.plugin import OpenApiPlugin, plugin
from switchboard.plugins.registry import PluginRegistry
from switchboard.reconcile.files import FileReconciler
from switchboard.storage.database import open_database
from switchboard.storage.manifests import ManifestRepository
from switchboard.storage.repository import SqlCatalogStore

BEARER = {"type": "http", "scheme": "bearer"}
OK = {"200": {"description": "ok"}}
PRM = "/.well-known/oauth-protected-resource"
ASM = "/.well-known/oauth-authorization-server"


def bearer_doc(**top: Any) -> dict[str, Any]:
    """A PostHog-like document: one bearer scheme, requirements naming scopes (case 30)."""
    paths = {
        "/projects": {"get": {"operationId": "projects.list", "responses": OK}},
        "/projects/{id}": {
            "delete": {
                "operationId": "projects.delete",
                "security": [{"bearer": ["project:write"]}],
                "parameters": [{"name": "id", "in": "path", "required": True}],
                "responses": OK,
            }
        },
        "/status": {"get": {"operationId": "status.get", "security": [], "responses": OK}},
    }
    return openapi(
        paths,
        components={"securitySchemes": {"bearer": BEARER}},
        security=[{"bearer": ["project:read"]}],
        **top,
    )


def _json(body: object) -> Reply:
    return Reply(200, orjson.dumps(body), {"content-type": "application/json"})


def publish(
    server: LoopbackServer,
    *,
    resource_path: str = "/v1",
    openid: bool = False,
    registration: bool = False,
    cimd: bool | None = True,
) -> None:
    """RFC 9728 metadata for `{server}{resource_path}` naming `{server}/auth`, and that
    issuer's RFC 8414 (or, with `openid`, only its OpenID Connect) metadata."""
    base = server.url
    server.routes[f"{PRM}{resource_path}"] = _json(
        {"resource": f"{base}{resource_path}", "authorization_servers": [f"{base}/auth"]}
    )
    metadata: dict[str, Any] = {
        "issuer": f"{base}/auth",
        "authorization_endpoint": f"{base}/auth/authorize",
        "token_endpoint": f"{base}/auth/token",
        "scopes_supported": ["project:read", "project:write", "openid"],
    }
    if registration:
        metadata["registration_endpoint"] = f"{base}/auth/register"
    if cimd is not None:
        metadata["client_id_metadata_document_supported"] = cimd
    where = "/.well-known/openid-configuration/auth" if openid else f"{ASM}/auth"
    server.routes[where] = _json(metadata)


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[PluginContext]:
    made = make_ctx(tmp_path)
    yield made
    await made.http.aclose()  # type: ignore[attr-defined]


def _discovery(registration: Any) -> dict[str, Any]:
    evidence: dict[str, Any] = registration.details["oauthDiscovery"]
    return evidence


# --- pure parts -------------------------------------------------------------------------------

CANDIDATE_CASES = [
    pytest.param(
        ("https://api.example.com/v1/", [{"url": "https://eu.example.com/api"}], None),
        [
            "https://api.example.com/v1",
            "https://api.example.com",
            "https://eu.example.com/api",
            "https://eu.example.com",
        ],
        id="base URL, then each server, each followed by its origin",
    ),
    pytest.param(
        (
            None,
            [{"url": "https://{region}.example.com", "variables": {"region": {"default": "us"}}}],
            "https://docs.example.com/openapi.json?x=1",
        ),
        [
            "https://us.example.com",
            "https://docs.example.com/openapi.json",
            "https://docs.example.com",
        ],
        id="server variables at their defaults; the spec URL last, its query dropped",
    ),
    pytest.param(
        (
            "https://user:pw@api.example.com:8443/v1",
            [{"url": "/relative"}, {"url": "ftp://x/y"}],
            None,
        ),
        ["https://api.example.com:8443/v1", "https://api.example.com:8443"],
        id="credentials never leave; relative and non-http URLs are not asked",
    ),
    pytest.param(
        ("https://api.example.com", [{"url": "https://api.example.com/"}], None),
        ["https://api.example.com"],
        id="each URL once",
    ),
    pytest.param(
        (None, [{"url": f"https://s{i}.example.com"} for i in range(10)], None),
        [f"https://s{i}.example.com" for i in range(MAX_CANDIDATES)],
        id=f"at most {MAX_CANDIDATES}",
    ),
]


@pytest.mark.parametrize(("given", "expected"), CANDIDATE_CASES)
def test_candidates(given: tuple[Any, Any, Any], expected: list[str]) -> None:
    assert candidates(*given) == expected


SCOPE_CASES = [
    pytest.param(
        [[{"bearer": ["project:read"]}], [{"bearer": ["project:write", "project:read"]}]],
        ["project:read", "project:write"],
        id="document then operations, each scope once, in order",
    ),
    pytest.param(
        [[{"oauth": ["admin"], "key": ["reports"]}]],
        ["reports"],
        id="only http and apiKey schemes name the scopes (an OAuth2 scheme's are its own)",
    ),
    pytest.param(
        [[{"ghost": ["x"]}], None, [], "junk", [{"bearer": "not-a-list"}]],
        [],
        id="undeclared schemes and malformed requirements name nothing",
    ),
]


@pytest.mark.parametrize(("securities", "expected"), SCOPE_CASES)
def test_requested_scopes(securities: list[Any], expected: list[str]) -> None:
    known = {
        "bearer": BEARER,
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "oauth": {"type": "oauth2"},
    }
    assert requested_scopes(known, securities) == expected


FACTS = OAuthFacts(
    resource="https://api.example.com/v1",
    metadata_url="https://as.example/.well-known/oauth-authorization-server",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
)


def test_template_scopes_are_kept_to_what_the_server_supports() -> None:
    facts = OAuthFacts(**{**FACTS.__dict__, "server_scopes": ["project:read", "email"]})
    template = make_template(facts, ["project:read", "legacy:all"])
    assert template is not None
    assert template.scopes == ["project:read", "email"]
    # Nothing read about registration or client metadata documents: unknown, not assumed.
    assert template.supports_dynamic_registration is False
    assert template.supports_client_id_metadata_document is None


def test_template_without_a_supported_list_asks_for_identity_too() -> None:
    template = make_template(FACTS, ["project:read"])
    assert template is not None
    assert template.scopes == ["project:read", "openid", "email", "profile"]


def test_no_template_without_both_endpoints() -> None:
    assert make_template(OAuthFacts(**{**FACTS.__dict__, "token_endpoint": None}), []) is None
    assert make_template(OAuthFacts(resource_metadata_url="https://x/.well-known/p"), []) is None


# --- against a real host ----------------------------------------------------------------------


async def test_case_30_discovered_oauth(
    tmp_path: Path, http_server: LoopbackServer, ctx: PluginContext
) -> None:
    publish(http_server)
    base_url = f"{http_server.url}/v1"
    registration = await register(
        tmp_path, bearer_doc(), config={"baseUrl": base_url, "oauthDiscovery": True}, ctx=ctx
    )
    found = templates(registration)
    assert [t["slug"] for t in found] == ["none", "apikey-0", SLUG]
    oauth = found[2]
    assert oauth == {
        "kind": "oauth2",
        "slug": SLUG,
        "label": "OAuth2 Authorization Code · DiscoveredOAuth2",
        "flow": "authorizationCode",
        "authorizationUrl": f"{http_server.url}/auth/authorize",
        "tokenUrl": f"{http_server.url}/auth/token",
        "resource": base_url,
        "scopes": ["project:read", "project:write", "openid"],
        "discoveryUrl": f"{http_server.url}{ASM}/auth",
        "supportsDynamicRegistration": False,
        "supportsClientIdMetadataDocument": True,
    }
    # The token stands in wherever the bearer credential is accepted; anonymous calls stay so.
    assert tool(registration, "projects.list").binding["templates"] == ["apikey-0", SLUG]
    assert tool(registration, "projects.delete").binding["templates"] == ["apikey-0", SLUG]
    assert tool(registration, "status.get").binding["templates"] == ["none"]
    assert _discovery(registration) == {
        "candidates": [base_url, http_server.url],
        "outcome": "found",
        "template": SLUG,
        "candidate": base_url,
        "resourceMetadata": f"{http_server.url}{PRM}/v1",
        "authorizationServerMetadata": f"{http_server.url}{ASM}/auth",
    }
    (descriptor,) = [
        d for d in plugin.describe_auth_methods(registration.record.config) if d.kind == "oauth"
    ]
    assert descriptor.oauth is not None
    assert descriptor.oauth.resource == base_url
    assert descriptor.oauth.supports_client_id_metadata_document is True
    # Each well-known document was asked for once, however many candidates share it.
    paths = [seen.path for seen in http_server.requests]
    assert len(paths) == len(set(paths))


async def test_openid_metadata_and_a_registration_endpoint_are_taken_as_found(
    tmp_path: Path, http_server: LoopbackServer, ctx: PluginContext
) -> None:
    """Metadata found from the spec's own URL (its origin publishes RFC 9728 for `/`), the
    authorization server only through OpenID Connect Discovery."""
    publish(http_server, resource_path="", openid=True, registration=True, cimd=None)
    document = bearer_doc(servers=[{"url": "/v1"}])
    http_server.routes["/specs/api.json"] = _json(document)
    source = f"{http_server.url}/specs/api.json"
    registration = await register(
        tmp_path, b"{}", config={"source": {"url": source}, "oauthDiscovery": True}, ctx=ctx
    )
    oauth = templates(registration)[-1]
    assert oauth["slug"] == SLUG
    assert oauth["resource"] == http_server.url  # what the metadata said, not the candidate
    assert oauth["registrationEndpoint"] == f"{http_server.url}/auth/register"
    assert oauth["supportsDynamicRegistration"] is True
    assert "supportsClientIdMetadataDocument" not in oauth  # not said, so not claimed
    evidence = _discovery(registration)
    # The relative server resolved against the spec URL comes before the spec URL itself.
    assert evidence["candidates"] == [f"{http_server.url}/v1", http_server.url, source]
    assert evidence["candidate"] == f"{http_server.url}/v1"  # under the resource `/`


async def _reconcile_files(repo: Path, db: Path, chosen: OpenApiPlugin) -> dict[str, Any]:
    """File mode end to end (SQLite mirror); the manifest's status as written back."""
    engine = open_database(f"sqlite:///{db}")
    ctx = make_ctx(repo)
    try:
        reconciler = FileReconciler(
            manifests=ManifestRepository(repo),
            store=SqlCatalogStore(engine),
            registry=PluginRegistry([chosen]),
            ctx=ctx,
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
        report = await reconciler.run([repo], dry_run=False, prune=True)
    finally:
        await ctx.http.aclose()  # type: ignore[attr-defined]
        engine.dispose()
    assert not report.failed, report.resources
    status: dict[str, Any] = yaml.safe_load((repo / "api.yaml").read_text())["status"]
    return status


def _manifest(repo: Path, base_url: str) -> None:
    (repo / "specs").mkdir(parents=True)
    (repo / "specs/api.json").write_bytes(orjson.dumps(bearer_doc()))
    (repo / "api.yaml").write_text(
        "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\n"
        "metadata: {name: api, namespace: acme}\n"
        "spec:\n  kind: openapi\n  openapi:\n"
        "    source: {file: specs/api.json}\n"
        f"    baseUrl: {base_url}\n"
        "    oauthDiscovery: true\n"
    )


def _ready(status: dict[str, Any]) -> str:
    return str(next(c for c in status["conditions"] if c["type"] == "Ready")["status"])


async def test_no_metadata_adds_nothing_and_the_integration_is_ready(
    tmp_path: Path, http_server: LoopbackServer
) -> None:
    repo = tmp_path / "repo"
    _manifest(repo, f"{http_server.url}/v1")
    status = await _reconcile_files(repo, tmp_path / "catalog.db", plugin)
    assert _ready(status) == "True"
    assert [m["id"] for m in status["authMethods"]] == ["none", "apikey-0"]
    evidence = status["details"]["oauthDiscovery"]
    assert evidence["outcome"] == "absent"
    assert evidence["answers"][f"{http_server.url}{PRM}/v1"] == "HTTP 404"
    assert evidence["answers"][f"{http_server.url}{ASM}"] == "HTTP 404"


async def test_a_hanging_host_costs_the_deadline_and_no_more(
    tmp_path: Path, http_server: LoopbackServer
) -> None:
    def hang(seen: Seen) -> Reply:
        return Reply(200, b"{}", {"content-type": "application/json"}, delay=30.0)

    for path in (f"{PRM}/v1", PRM):
        http_server.routes[path] = hang
    repo = tmp_path / "repo"
    _manifest(repo, f"{http_server.url}/v1")
    started = time.monotonic()
    status = await _reconcile_files(
        repo, tmp_path / "catalog.db", OpenApiPlugin(oauth_discovery_deadline=0.5)
    )
    assert time.monotonic() - started < 3.0
    assert _ready(status) == "True"
    assert [m["id"] for m in status["authMethods"]] == ["none", "apikey-0"]
    evidence = status["details"]["oauthDiscovery"]
    assert evidence["outcome"] == "inconclusive"
    assert evidence["reason"] == "not every host answered within 0.5 s"
    assert evidence["answers"][f"{http_server.url}{PRM}/v1"] in ("FetchError", "no answer in time")


async def test_the_first_candidate_in_order_wins_and_a_hanging_one_costs_only_when_earlier(
    tmp_path: Path, http_server: LoopbackServer, ctx: PluginContext
) -> None:
    publish(http_server)
    hang = Reply(200, b"{}", {"content-type": "application/json"}, delay=30.0)
    http_server.routes[f"{PRM}/slow"] = hang
    fast, slow = f"{http_server.url}/v1", f"{http_server.url}/slow"
    chosen = OpenApiPlugin(oauth_discovery_deadline=1.0)

    async def timed(base_url: str, server: str) -> tuple[float, dict[str, Any]]:
        (tmp_path / "spec.json").write_bytes(orjson.dumps(bearer_doc(servers=[{"url": server}])))
        config = {"source": {"file": "spec.json"}, "baseUrl": base_url, "oauthDiscovery": True}
        started = time.monotonic()
        done = await chosen.register(RegistrationRequest("t", "api", config), ctx)
        return time.monotonic() - started, _discovery(done)

    # The winner comes first: the hanging server after it is not waited for.
    elapsed, evidence = await timed(fast, slow)
    assert evidence["candidates"] == [fast, http_server.url, slow]
    assert evidence["candidate"] == fast
    assert elapsed < 0.5
    # A hanging host before the winner is waited for up to the deadline, then passed over.
    elapsed, evidence = await timed(slow, fast)
    assert evidence["candidates"] == [slow, http_server.url, fast]
    assert evidence["outcome"] == "found"
    assert evidence["candidate"] == fast
    assert 1.0 <= elapsed < 2.5


async def test_an_outage_is_asked_again_an_answer_is_kept(
    tmp_path: Path, http_server: LoopbackServer, ctx: PluginContext
) -> None:
    publish(http_server)
    published = http_server.routes[f"{PRM}/v1"]
    calls: list[str] = []

    def failing_once(seen: Seen) -> Reply:
        calls.append(seen.path)
        return Reply(503, b"busy") if len(calls) == 1 else published  # type: ignore[return-value]

    http_server.routes[f"{PRM}/v1"] = failing_once
    config = {"baseUrl": f"{http_server.url}/v1", "oauthDiscovery": True}
    first = await register(tmp_path, bearer_doc(), config=config, ctx=ctx)
    assert _discovery(first)["outcome"] == "inconclusive"  # a 503 is not "no metadata here"
    assert SLUG not in [t["slug"] for t in templates(first)]

    second = await register(tmp_path, bearer_doc(), config=config, previous=first.record, ctx=ctx)
    assert not second.toolset.unchanged  # compiled again, and asked again
    assert _discovery(second)["outcome"] == "found"
    assert tool(second, "projects.list").binding["templates"] == ["apikey-0", SLUG]

    asked = len(http_server.requests)
    third = await register(tmp_path, bearer_doc(), config=config, previous=second.record, ctx=ctx)
    assert third.toolset.unchanged
    assert len(http_server.requests) == asked  # an answer is kept with the unchanged spec
    assert [t["slug"] for t in templates(third)] == ["none", "apikey-0", SLUG]
    assert _discovery(third)["outcome"] == "found"

    off = await register(
        tmp_path,
        bearer_doc(),
        config={"baseUrl": config["baseUrl"]},
        previous=third.record,
        ctx=ctx,
    )
    assert not off.toolset.unchanged  # switched off: compiled again without it
    assert SLUG not in [t["slug"] for t in templates(off)]
    assert "oauthDiscovery" not in off.details
    assert len(http_server.requests) == asked


KEY = {"slug": "key", "kind": "apikey", "placements": [{"carrier": "header", "name": "X-Key"}]}
OAUTH_SCHEME = {
    "type": "oauth2",
    "flows": {"clientCredentials": {"tokenUrl": "https://as.example/token"}},
}
QUIET_CASES = [
    pytest.param({}, {}, None, id="not opted in: an ordinary registration asks no host"),
    pytest.param(
        {"oauthDiscovery": True, "authenticationTemplate": []},
        {},
        "skipped",
        id="an explicit empty list means no auth: nothing to discover",
    ),
    pytest.param(
        {"oauthDiscovery": True, "authenticationMode": "replace", "authenticationTemplate": [KEY]},
        {},
        "skipped",
        id="declared templates replace the derived ones: discovery would be thrown away",
    ),
    pytest.param(
        {"oauthDiscovery": True},
        {"oauth": OAUTH_SCHEME},
        "not-needed",
        id="the document declares a usable OAuth2 scheme, even one no requirement names",
    ),
]


@pytest.mark.parametrize(("config", "schemes", "outcome"), QUIET_CASES)
async def test_nothing_is_asked_unless_it_can_matter(
    tmp_path: Path,
    http_server: LoopbackServer,
    ctx: PluginContext,
    config: dict[str, Any],
    schemes: dict[str, Any],
    outcome: str | None,
) -> None:
    publish(http_server)
    document = bearer_doc()
    document["components"]["securitySchemes"].update(schemes)
    registration = await register(
        tmp_path, document, config={"baseUrl": f"{http_server.url}/v1", **config}, ctx=ctx
    )
    assert SLUG not in [t["slug"] for t in templates(registration)]
    assert registration.details.get("oauthDiscovery", {}).get("outcome") == outcome
    assert http_server.requests == []
