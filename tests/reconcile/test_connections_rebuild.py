"""The background rebuild of stale connections: bounded concurrency and jitter, last good tools kept
on failure with a counted backoff, and rows that stop listing tools when their template or
credentials go away. Real stores (SQLite and PostgreSQL) and a real discovery server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import pytest
from sqlalchemy import Engine

from harness.http import LoopbackServer
from reconcile.discovering import ToolsRoute, World, connection, make_world
from switchboard.reconcile.rebuilding import RebuildReport, rebuild_stale
from switchboard.storage.credentials import FileModeCredentials

TOKENS = {f"tok-{i}": [f"own.t{i}"] for i in range(6)}


@pytest.fixture
def route() -> ToolsRoute:
    return ToolsRoute(TOKENS, delay=0.05)


@pytest.fixture
async def world(
    engine: Engine, http_server: LoopbackServer, route: ToolsRoute, tmp_path: Path
) -> AsyncIterator[World]:
    http_server.routes["/tools"] = route
    built = make_world(engine, http_server, tmp_path)
    yield built
    await built.http.aclose()


async def six_connections(world: World, env: dict[str, str], tmp_path: Path) -> None:
    await world.discovery(shared=("list",))
    for i in range(6):
        env[f"T{i}"] = f"tok-{i}"
        resource = connection(f"c{i}", credentials={"env": {"token": f"T{i}"}})
        outcome = await world.reconcile(
            resource, FileModeCredentials(tmp_path, env), now=datetime.now(UTC)
        )
        assert outcome.ready, outcome.status


async def rebuild(
    world: World,
    env: dict[str, str],
    tmp_path: Path,
    *,
    now: datetime | None = None,
    concurrency: int = 8,
    jitter: float = 0.0,
    rng: Random | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> RebuildReport:
    extra = {"sleep": sleep} if sleep is not None else {}
    return await rebuild_stale(
        stores=world.stores,
        registry=world.registry,
        ctx=world.ctx,
        credentials_provider=FileModeCredentials(tmp_path, env),
        now=now or datetime.now(UTC),
        concurrency=concurrency,
        jitter=jitter,
        rng=rng,
        **extra,
    )


async def test_a_spec_change_makes_every_connection_stale_and_the_rebuild_is_bounded(
    world: World, route: ToolsRoute, tmp_path: Path
) -> None:
    env: dict[str, str] = {}
    await six_connections(world, env, tmp_path)
    assert world.connections.stale_connections() == []
    route.seen.clear()
    route.peak = 0
    await world.discovery(shared=("list", "export"))  # the integration's tools changed
    assert len(world.connections.stale_connections()) == 6
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    report = await rebuild(
        world, env, tmp_path, concurrency=2, jitter=0.5, rng=Random(7), sleep=sleep
    )
    assert report.rebuilt == 6 and report.failed == 0
    assert len(route.seen) == 6
    assert 1 <= route.peak <= 2
    assert len(waits) == 6 and all(0 <= w <= 0.5 for w in waits) and len(set(waits)) == 6
    assert world.connections.stale_connections() == []
    first = report.results[0]
    assert first.tools is not None and first.tools.count == 3  # list, export, own


async def test_a_failed_rebuild_keeps_tools_counts_failures_and_backs_off(
    world: World, route: ToolsRoute, tmp_path: Path
) -> None:
    env: dict[str, str] = {}
    await six_connections(world, env, tmp_path)
    await world.discovery(shared=("list", "export"))
    route.status = 503
    now = datetime.now(UTC)
    report = await rebuild(world, env, tmp_path, jitter=0, now=now)
    assert report.failed == 6
    rows = world.connections.list_connections("acme", "crm")
    assert all(r.stale and r.consecutive_failures == 1 and r.tool_count == 2 for r in rows)
    assert all(r.reason == "UpstreamUnavailable" and r.ready for r in rows)
    # The last good own tools are still listed.
    assert (
        world.catalog.tools("acme", "crm")
        and len([t for t in world.catalog.tools("acme", "crm") if t.connection]) == 6
    )
    # Retried at once: deferred by the backoff; 31 s later: tried (and failing) again.
    again = await rebuild(world, env, tmp_path, jitter=0, now=now)
    assert again.deferred == 6 and again.results == []
    later = await rebuild(world, env, tmp_path, jitter=0, now=now + timedelta(seconds=31))
    assert later.failed == 6
    assert {r.consecutive_failures for r in world.connections.list_connections()} == {2}
    route.status = None
    healed = await rebuild(world, env, tmp_path, jitter=0, now=now + timedelta(minutes=5))
    assert healed.rebuilt == 6
    rows = world.connections.list_connections()
    assert all(not r.stale and r.consecutive_failures == 0 and r.tool_count == 3 for r in rows)


async def test_rows_stop_listing_tools_when_template_or_credentials_go(
    world: World, route: ToolsRoute, tmp_path: Path
) -> None:
    env: dict[str, str] = {}
    await six_connections(world, env, tmp_path)
    del env["T0"]
    await world.discovery(shared=("list", "export"))
    report = await rebuild(world, env, tmp_path, jitter=0)
    reasons = {r.key.name: r.reason for r in report.results if not r.ok}
    assert reasons == {"c0": "CredentialsMissing"}
    row = next(r for r in world.connections.list_connections() if r.name == "c0")
    assert not row.ready and row.reason == "CredentialsMissing"
    # The auth template is replaced: every connection's `bearer` is gone.
    spec = {
        "kind": "discovery",
        "config": {
            "endpoint": world.server.url,
            "shared": ["list"],
            "authenticationTemplate": [
                {
                    "slug": "key",
                    "kind": "apikey",
                    "placements": [{"carrier": "header", "name": "X-Key"}],
                }
            ],
        },
    }
    await world.integration("crm", spec)
    report = await rebuild(world, env, tmp_path, jitter=0)
    assert {r.reason for r in report.results} == {"UnknownTemplate"}
    assert all(not r.ready for r in world.connections.list_connections())
    assert world.connections.stale_connections() == []
