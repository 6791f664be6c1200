"""Catalog reads and edits: static first, projection without config, update, remove rules."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from switchboard.catalog.ports import IntegrationWrite, WriteBatch
from switchboard.catalog.querying import Catalog
from switchboard.errors import IntegrationNotFoundError, IntegrationRemovalNotAllowedError
from switchboard.models.records import IntegrationRecord, ToolDefinition, ToolSet
from switchboard.plugins.registry import load_plugins
from switchboard.storage.repository import SqlCatalogStore

TEMPLATES = [
    {
        "slug": "apikey-0",
        "kind": "apikey",
        "placements": [{"carrier": "header", "name": "X-API-Key"}],
    }
]


@pytest.fixture
def catalog(engine: Engine) -> Catalog:
    store = SqlCatalogStore(engine)
    records = [
        IntegrationRecord(
            tenant="acme",
            slug="petstore",
            kind="openapi",
            name="Petstore",
            config={"authenticationTemplate": TEMPLATES, "baseUrl": "https://pets.example"},
        ),
        IntegrationRecord(
            tenant="acme",
            slug="broken",
            kind="openapi",
            name="Broken",
            config={"authenticationTemplate": "not a list"},
        ),
        IntegrationRecord(
            tenant="acme", slug="locked", kind="openapi", name="Locked", can_remove=False
        ),
    ]
    tools = ToolSet(
        tools=[ToolDefinition(name="pets.list", annotations={"requiresApproval": False})]
    )
    store.apply(WriteBatch(integrations=[IntegrationWrite(r, tools) for r in records]))
    return Catalog(store, load_plugins())


def test_static_integration_comes_first_with_its_tools(catalog: Catalog) -> None:
    views = catalog.list_integrations("acme")
    assert views[0].slug == "switchboard"
    assert views[0].kind == "built-in" and views[0].can_remove is False
    names = {t.address for t in catalog.tools(integration="switchboard")}
    assert {
        "switchboard.integrations.list",
        "switchboard.integrations.get",
        "switchboard.integrations.detect",
    } <= names


def test_projection_never_contains_config(catalog: Catalog) -> None:
    view = catalog.get("acme", "petstore").dump()
    assert "config" not in view
    assert view["authMethods"][0]["label"] == "API key (X-API-Key)"
    assert view["displayUrl"] == "https://pets.example"


def test_malformed_config_projects_empty_auth_methods(catalog: Catalog) -> None:
    assert catalog.get("acme", "broken").auth_methods == []


def test_update_changes_name_and_description_only(catalog: Catalog) -> None:
    view = catalog.update("acme", "petstore", name="Pets", description="Adopt pets")
    assert (view.name, view.description) == ("Pets", "Adopt pets")
    assert view.auth_methods[0].template == "apikey-0"
    with pytest.raises(IntegrationNotFoundError):
        catalog.update("acme", "switchboard", name="nope")  # static entries have no row


def test_remove_rules(catalog: Catalog) -> None:
    with pytest.raises(IntegrationRemovalNotAllowedError):
        catalog.remove("acme", "switchboard")
    with pytest.raises(IntegrationRemovalNotAllowedError):
        catalog.remove("acme", "locked")
    with pytest.raises(IntegrationNotFoundError):
        catalog.remove("acme", "ghost")
    catalog.remove("acme", "petstore")
    assert "petstore" not in [v.slug for v in catalog.list_integrations("acme")]
    assert catalog.tools("acme", "petstore") == []
