"""The HTTP API over a real socket: projection without config, tenants, errors mapped to statuses."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from harness.asgi import serve_asgi
from switchboard.api.app import create_app
from switchboard.catalog.ports import IntegrationWrite, WriteBatch
from switchboard.catalog.querying import Catalog
from switchboard.models.records import IntegrationRecord, ToolDefinition, ToolSet
from switchboard.plugins.registry import load_plugins
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
