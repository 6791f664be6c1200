"""The HTTP API over a real socket: projection without config, tenants, errors mapped to statuses."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from harness.asgi import serve_asgi
from harness.http import LoopbackServer, Reply
from switchboard.api.app import create_app
from switchboard.catalog.ports import IntegrationWrite, WriteBatch
from switchboard.catalog.querying import Catalog
from switchboard.models.records import IntegrationRecord, ToolDefinition, ToolSet
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.registry import load_plugins
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy, client_factory
from switchboard.storage.repository import SqlCatalogStore

TEMPLATES = [
    {
        "slug": "oauth-app",
        "kind": "oauth2",
        "tokenUrl": "https://id.example/token",
        "scopes": ["read"],
    }
]


@pytest.fixture
def base_url(engine: Engine) -> Iterator[str]:
    store = SqlCatalogStore(engine)
    store.apply(
        WriteBatch(
            integrations=[
                IntegrationWrite(
                    IntegrationRecord(
                        tenant="acme",
                        slug="billing",
                        kind="openapi",
                        name="Billing",
                        config={"authenticationTemplate": TEMPLATES, "specHash": "secret-ish"},
                    ),
                    ToolSet(tools=[ToolDefinition(name="invoices.list")]),
                ),
                IntegrationWrite(
                    IntegrationRecord(tenant="globex", slug="billing", kind="openapi", name="Other")
                ),
            ]
        )
    )
    with serve_asgi(create_app(Catalog(store, load_plugins()))) as url:
        yield url


def test_list_get_and_tools(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        listed = client.get("/api/integrations", params={"namespace": "acme"}).json()
        assert [v["slug"] for v in listed] == ["switchboard", "billing"]
        got = client.get("/api/integrations/billing", params={"namespace": "acme"})
        assert got.status_code == 200
        body = got.json()
        assert "config" not in body and "secret-ish" not in got.text
        assert body["authMethods"][0]["oauth"]["tokenUrl"] == "https://id.example/token"
        assert (
            client.get("/api/integrations/billing", params={"namespace": "globex"}).json()["name"]
            == "Other"
        )
        tools = client.get(
            "/api/tools", params={"namespace": "acme", "integration": "billing"}
        ).json()
        assert [t["address"] for t in tools] == ["billing.invoices.list"]
        assert client.get("/healthz").json() == {"status": "ok"}


def test_missing_integration_is_404_with_a_reason(base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/integrations/ghost", params={"namespace": "acme"})
    assert response.status_code == 404
    assert response.json() == {
        "error": "IntegrationNotFound",
        "message": "integration not found: ghost",
    }


def test_detect_ranks_answers_over_http(engine: Engine, http_server: LoopbackServer) -> None:
    http_server.routes["/openapi.json"] = Reply(
        200,
        b'{"openapi": "3.0.3", "info": {"title": "Weather API"}, "paths": {}}',
        {"content-type": "application/json"},
    )
    policy = OutboundPolicy.from_allow(["127.0.0.0/8", "::1"])
    client = OutboundClient(policy)
    ctx = PluginContext(
        documents=SourceReader(http=client, max_bytes=1 << 20),
        http=client,
        client_factory=client_factory(policy),
        detect_deadline=5.0,
    )
    catalog = Catalog(SqlCatalogStore(engine), load_plugins())
    with serve_asgi(create_app(catalog, ctx)) as url:
        answer = httpx.post(
            f"{url}/api/integrations/detect",
            json={"url": f"  {http_server.url}/openapi.json "},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        best = answer.json()["results"][0]
        assert (best["kind"], best["confidence"], best["slug"]) == (
            "openapi",
            "high",
            "weather_api",
        )
        refused = httpx.post(
            f"{url}/api/integrations/detect", json={"url": "file:///etc/passwd"}, timeout=30
        )
        assert refused.status_code == 400
        assert refused.json()["field"] == "url"
