"""Reconciling Connections against real stores (SQLite and PostgreSQL) and a real discovery plugin on
loopback: identity, template checks, credentials, tools stored once, stale and failed discovery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from harness.http import LoopbackServer
from reconcile.discovering import NOW, ToolsRoute, World, connection, make_world
from switchboard.catalog.addressing import connection_tools, parse_tool_address
from switchboard.catalog.querying import Catalog
from switchboard.models.conditions import find
from switchboard.models.connection import ConnectionKey
from switchboard.reconcile.connections import reconcile_connection
from switchboard.storage.credentials import FileModeCredentials
from switchboard.storage.tables import ConnectionRow, ToolRow

PETSTORE = """
openapi: 3.0.3
info: {title: Petstore, version: "1"}
servers: [{url: https://petstore.example/v1}]
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
security: [{bearer: []}]
paths:
  /pets:
    get: {operationId: listPets, tags: [pets], responses: {"200": {description: ok}}}
    post: {operationId: createPet, tags: [pets], responses: {"201": {description: ok}}}
"""


@pytest.fixture
def route() -> ToolsRoute:
    return ToolsRoute(
        {"": [], "tok-alice": ["notes.read"], "tok-org": ["notes.read", "notes.write"]}
    )


@pytest.fixture
async def world(
    engine: Engine, http_server: LoopbackServer, route: ToolsRoute, tmp_path: Path
) -> AsyncIterator[World]:
    http_server.routes["/tools"] = route
    built = make_world(engine, http_server, tmp_path)
    yield built
    await built.http.aclose()


@pytest.fixture
def env() -> dict[str, str]:
    return {}


def creds(root: Path, env: dict[str, str]) -> FileModeCredentials:
    return FileModeCredentials(root, environ=env)


def rows(engine: Engine, table: type[ToolRow] | type[ConnectionRow], **where: str) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(getattr(table, column) == value)
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


async def petstore(world: World) -> None:
    await world.integration(
        "petstore", {"kind": "openapi", "openapi": {"source": {"inline": PETSTORE}}}
    )


async def test_openapi_connection_shares_the_integration_tools(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    await petstore(world)
    env["PETSTORE_TOKEN"] = "pet-secret-1"
    resource = connection(
        "petstore-prod",
        integration="petstore",
        template="apikey-0",
        name="my-api-key",
        credentials={"env": {"token": "PETSTORE_TOKEN"}},
    )
    outcome = await world.reconcile(resource, creds(tmp_path, env))
    assert outcome.action == "create" and outcome.ready, outcome.status
    status = outcome.status
    assert status.address == "tools.petstore.org.myApiKey"
    assert status.name == "myApiKey"
    assert status.tools is not None and status.tools.count == 2
    assert status.tools.sample_names == ["pets.createPet", "pets.listPets"]
    assert status.tools_synced_at == "2026-07-01T12:00:00Z"
    row = world.connections.get_connection(ConnectionKey("acme", "org", "", "petstore", "myApiKey"))
    assert row is not None and row.provider == "env" and row.item_ids == {"token": "PETSTORE_TOKEN"}
    # Spec-derived tools stay stored once, at integration scope: the connection copied none.
    assert rows(world.engine, ToolRow, integration="petstore") == 2
    assert rows(world.engine, ToolRow, connection="myApiKey") == 0
    addresses = [v.address for v in connection_tools(world.catalog, world.connections)]
    assert addresses == [
        "tools.petstore.org.myApiKey.pets.createPet",
        "tools.petstore.org.myApiKey.pets.listPets",
    ]
    parsed = parse_tool_address(addresses[1])
    assert parsed is not None and parsed.connection == "myApiKey" and parsed.tool == "pets.listPets"


async def test_second_reconcile_of_the_same_inputs_changes_nothing(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    await petstore(world)
    env["T"] = "v"
    resource = connection(
        integration="petstore", template="apikey-0", credentials={"env": {"token": "T"}}
    )
    first = await world.reconcile(resource, creds(tmp_path, env))
    again = connection(
        integration="petstore",
        template="apikey-0",
        credentials={"env": {"token": "T"}},
        status=first.status.dump(),
    )
    later = NOW.replace(hour=13)
    second = await world.reconcile(again, creds(tmp_path, env), now=later)
    assert second.action == "unchanged"
    assert second.write is None and second.events == []
    assert second.status.dump() == first.status.dump()


async def test_unknown_template_is_refused_with_the_valid_slugs(
    world: World, tmp_path: Path
) -> None:
    await petstore(world)
    outcome = await world.reconcile(
        connection(integration="petstore", template="oauth"), creds(tmp_path, {})
    )
    assert not outcome.ready and outcome.action == "error"
    ready = find(outcome.status.conditions, "Ready")
    assert ready is not None and ready.reason == "UnknownTemplate"
    assert "spec.template" in ready.message and "valid: apikey-0, none" in ready.message
    stalled = find(outcome.status.conditions, "Stalled")
    assert stalled is not None and stalled.status == "True"
    # The row records the refusal, so no address lists tools for it: the integration's tools
    # show only as what it offers, unbound.
    assert connection_tools(world.catalog, world.connections, unbound=False) == []
    listed = connection_tools(world.catalog, world.connections)
    assert [(v.address, v.connection) for v in listed] == [
        ("petstore.pets.createPet", None),
        ("petstore.pets.listPets", None),
    ]


async def test_template_none_needs_no_credentials(world: World, tmp_path: Path) -> None:
    await petstore(world)
    outcome = await world.reconcile(
        connection(integration="petstore", template="none"), creds(tmp_path, {})
    )
    assert outcome.ready, outcome.status
    assert find(outcome.status.conditions, "CredentialsResolved").status == "True"  # type: ignore[union-attr]


async def test_missing_integration_then_present(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    env["T"] = "tok-org"
    resource = connection(credentials={"env": {"token": "T"}})
    waiting = await world.reconcile(resource, creds(tmp_path, env))
    assert not waiting.ready
    ready = find(waiting.status.conditions, "Ready")
    assert ready is not None and ready.reason == "IntegrationMissing"
    assert find(waiting.status.conditions, "Stalled").status == "False"  # type: ignore[union-attr]
    assert rows(world.engine, ConnectionRow) == 0
    await world.discovery()
    resumed = await world.reconcile(resource, creds(tmp_path, env))
    assert resumed.ready and resumed.status.tools is not None
    assert resumed.status.tools.count == 3  # shared `list` + own notes.read, notes.write


async def test_missing_credentials_name_what_is_missing(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    await world.discovery()
    resource = connection(credentials={"env": {"token": "CRM_TOKEN"}})
    outcome = await world.reconcile(resource, creds(tmp_path, env))
    assert not outcome.ready
    resolved = find(outcome.status.conditions, "CredentialsResolved")
    assert resolved is not None and resolved.status == "False"
    assert resolved.reason == "CredentialsMissing"
    assert outcome.status.missing_credentials == [
        "token (environment variable CRM_TOKEN is not set)"
    ]
    env["CRM_TOKEN"] = "tok-org"
    fixed = await world.reconcile(resource, creds(tmp_path, env))
    assert fixed.ready and fixed.status.missing_credentials is None


async def test_own_tools_are_stored_per_connection_and_credentials_are_sent(
    world: World, env: dict[str, str], route: ToolsRoute, tmp_path: Path
) -> None:
    await world.discovery(shared=("list", "search"))
    env.update({"ORG": "tok-org", "ALICE": "tok-alice"})
    org = connection("crm-org", name="main", credentials={"env": {"token": "ORG"}})
    alice = connection(
        "crm-alice",
        name="main",
        owner={"kind": "user", "subject": "alice@acme.example"},
        credentials={"env": {"token": "ALICE"}},
    )
    for resource in (org, alice):
        assert (await world.reconcile(resource, creds(tmp_path, env))).ready
    assert route.seen == ["Bearer tok-org", "Bearer tok-alice"]
    # Shared tools once; each connection only its own.
    assert rows(world.engine, ToolRow, connection="") == 2
    assert rows(world.engine, ToolRow, connection="main", owner="org") == 2
    assert rows(world.engine, ToolRow, connection="main", owner="user") == 1
    views = connection_tools(world.catalog, world.connections, "acme", "crm")
    by_owner: dict[tuple[str | None, str | None], list[str]] = {}
    for view in views:
        by_owner.setdefault((view.owner, view.subject), []).append(view.name)
    assert by_owner == {
        ("org", None): ["list", "notes.read", "notes.write", "search"],
        ("user", "alice@acme.example"): ["list", "notes.read", "search"],
    }
    assert {v.address for v in views if v.owner == "user"} == {
        "tools.crm.user.main.list",
        "tools.crm.user.main.notes.read",
        "tools.crm.user.main.search",
    }


async def test_failed_discovery_keeps_the_last_good_tools(
    world: World, env: dict[str, str], route: ToolsRoute, tmp_path: Path
) -> None:
    await world.discovery()
    env["T"] = "tok-org"
    resource = connection(credentials={"env": {"token": "T"}})
    first = await world.reconcile(resource, creds(tmp_path, env))
    assert first.status.tools is not None and first.status.tools.count == 3
    route.status = 503
    # A forced attempt (a rotated Secret, say) while the upstream is down.
    retried = await reconcile_connection(
        connection(credentials={"env": {"token": "T"}}, status=first.status.dump()),
        stores=world.stores,
        registry=world.registry,
        ctx=world.ctx,
        credentials_provider=creds(tmp_path, env),
        now=NOW.replace(hour=13),
        force=True,
    )
    retried.apply(world.connections)
    assert retried.ready  # still usable: the last good tools are kept
    stale = find(retried.status.conditions, "Stale")
    assert stale is not None and stale.status == "True" and stale.reason == "UpstreamUnavailable"
    assert retried.status.consecutive_failures == 1
    assert retried.status.tools is not None and retried.status.tools.count == 3
    assert retried.status.tools_synced_at == first.status.tools_synced_at
    assert rows(world.engine, ToolRow, connection="crmMain") == 2
    row = world.connections.get_connection(first.key)
    assert row is not None and row.stale and row.consecutive_failures == 1
    assert [r.key for r in world.connections.stale_connections()] == [first.key]


async def test_rejected_credentials_are_redacted_from_every_message(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    await world.discovery()
    env["T"] = "planted-wrong-token-9f2c"
    outcome = await world.reconcile(
        connection(credentials={"env": {"token": "T"}}), creds(tmp_path, env)
    )
    assert not outcome.ready
    ready = find(outcome.status.conditions, "Ready")
    assert ready is not None and ready.reason == "CredentialsRejected"
    assert "bad token ***" in ready.message
    text = outcome.status.model_dump_json() + str(outcome.error) + repr(outcome.events)
    assert "planted-wrong-token-9f2c" not in text


async def test_changed_template_rematerializes(
    world: World, env: dict[str, str], route: ToolsRoute, tmp_path: Path
) -> None:
    await world.discovery()
    env["T"] = "tok-org"
    first = await world.reconcile(
        connection(credentials={"env": {"token": "T"}}), creds(tmp_path, env)
    )
    assert len(route.seen) == 1
    # Nothing changed: no second discovery.
    await world.reconcile(
        connection(credentials={"env": {"token": "T"}}, status=first.status.dump()),
        creds(tmp_path, env),
    )
    assert len(route.seen) == 1
    second = await world.reconcile(
        connection(template="none", status=first.status.dump(), generation=2), creds(tmp_path, env)
    )
    assert second.ready and route.seen[-1] == ""  # none sends no credentials
    assert second.status.tools is not None and second.status.tools.count == 1  # only shared


async def test_removing_the_integration_removes_connection_rows_and_tools(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    await world.discovery()
    env["T"] = "tok-org"
    resource = connection(credentials={"env": {"token": "T"}})
    first = await world.reconcile(resource, creds(tmp_path, env))
    assert rows(world.engine, ToolRow, connection="crmMain") == 2
    Catalog(world.catalog, world.registry).remove("acme", "crm")
    assert rows(world.engine, ToolRow) == 0 and rows(world.engine, ConnectionRow) == 0
    after = await world.reconcile(
        connection(credentials={"env": {"token": "T"}}, status=first.status.dump()),
        creds(tmp_path, env),
    )
    assert not after.ready
    ready = find(after.status.conditions, "Ready")
    assert ready is not None and ready.reason == "IntegrationMissing"
    assert after.status.tools is None
    assert ("Warning", "IntegrationMissing") in [(e[0], e[1]) for e in after.events]
