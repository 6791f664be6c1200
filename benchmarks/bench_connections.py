"""Connections at scale (issue 5): one OpenAPI integration, 1,000 operations, 500 connections.

Materializing every connection's tools through the reconcile path (spec-derived tools stored once
per integration, each connection adding none) against the reference design measured in the same
run through the same write path: every connection holding its own copy of all 1,000 tools (gap 10).
Then the background rebuild of all 500 after a spec change, again against rebuilding the copies.
Each scenario runs in a fresh process (wall time, peak RSS); database sizes are live SQLite pages.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.measure import Row, isolated

OPERATIONS = 1_000
CONNECTIONS = 500
CONCURRENCY = 8
BENCH = "connections"


def _spec(operations: int) -> str:
    """A spec whose operations carry parameters and bodies (schemas of realistic size)."""
    schemas = {
        f"Resource{k}": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string", "maxLength": 200},
                "tags": {"type": "array", "items": {"type": "string"}},
                "createdAt": {"type": "string", "format": "date-time"},
                "owner": {"type": "object", "properties": {"email": {"type": "string"}}},
            },
        }
        for k in range(50)
    }
    paths: dict[str, Any] = {}
    for i in range(operations // 2 + operations % 2):
        ref = {"$ref": f"#/components/schemas/Resource{i % 50}"}
        ok = {"200": {"description": "ok", "content": {"application/json": {"schema": ref}}}}
        paths[f"/group{i // 20}/resource{i}/{{id}}"] = {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "operationId": f"getResource{i}",
                "tags": [f"group{i // 20}"],
                "summary": f"Read resource {i}",
                "parameters": [
                    {"name": "expand", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "fields", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": ok,
            },
            "put": {
                "operationId": f"putResource{i}",
                "tags": [f"group{i // 20}"],
                "summary": f"Replace resource {i}",
                "requestBody": {"content": {"application/json": {"schema": ref}}},
                "responses": ok,
            },
        }
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Big", "version": "1"},
        "servers": [{"url": "https://big.example/v1"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
    return json.dumps(document)


INTEGRATION = """\
apiVersion: switchboard.dev/v1alpha1
kind: Integration
metadata: {name: big, namespace: bench}
spec:
  kind: openapi
  openapi:
    source: {file: big/spec.json}
"""


def _connections() -> str:
    return "".join(
        "---\napiVersion: switchboard.dev/v1alpha1\nkind: Connection\n"
        f"metadata: {{name: user-{n}, namespace: bench}}\n"
        f"spec:\n  integration: big\n  owner: {{kind: user, subject: user{n}@bench.example}}\n"
        "  name: main\n  template: apikey-0\n"
        "  credentials: {env: {token: BENCH_TOKEN}}\n"
        for n in range(CONNECTIONS)
    )


def _db_bytes(path: Path) -> int:
    """Live pages only (free pages excluded), after folding the WAL into the file."""
    with sqlite3.connect(path) as handle:
        handle.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, size = (
            handle.execute(f"PRAGMA {p}").fetchone()[0]
            for p in ("page_count", "freelist_count", "page_size")
        )
    return int((pages - free) * size)


def _tool_rows(path: Path) -> int:
    with sqlite3.connect(path) as handle:
        return int(handle.execute("SELECT count(*) FROM tool").fetchone()[0])


async def _file_run(root: Path, db: str, target: str, *, connections: bool) -> float:
    from switchboard.config import Settings
    from switchboard.context import AppContext
    from switchboard.reconcile.files import FileReconciler
    from switchboard.storage.connections import SqlConnectionStore
    from switchboard.storage.credentials import FileModeCredentials
    from switchboard.storage.manifests import ManifestRepository

    context = AppContext.create(Settings(db=db))
    try:
        reconciler = FileReconciler(
            manifests=ManifestRepository(root),
            store=context.store,
            registry=context.registry,
            ctx=context.plugin_context(root=root),
            now=datetime.now(UTC),
            connections=SqlConnectionStore(context.engine) if connections else None,
            credentials=FileModeCredentials(root, {"BENCH_TOKEN": "bench"})
            if connections
            else None,
            jitter=0,
        )
        started = time.perf_counter()
        report = await reconciler.run([root / target], dry_run=False, prune=False)
        elapsed = time.perf_counter() - started
        assert not report.failed, [r for r in report.resources if r.action == "error"][:3]
        return elapsed
    finally:
        await context.aclose()


async def _rebuild(root: Path, db: str) -> tuple[float, int]:
    from switchboard.config import Settings
    from switchboard.context import AppContext
    from switchboard.reconcile.connections import ConnectionStores
    from switchboard.reconcile.rebuilding import rebuild_stale
    from switchboard.storage.connections import SqlConnectionStore
    from switchboard.storage.credentials import FileModeCredentials

    context = AppContext.create(Settings(db=db))
    try:
        started = time.perf_counter()
        report = await rebuild_stale(
            stores=ConnectionStores(context.store, SqlConnectionStore(context.engine)),
            registry=context.registry,
            ctx=context.plugin_context(root=root),
            credentials_provider=FileModeCredentials(root, {"BENCH_TOKEN": "bench"}),
            now=datetime.now(UTC),
            concurrency=CONCURRENCY,
            jitter=0,
        )
        return time.perf_counter() - started, report.rebuilt
    finally:
        await context.aclose()


def shared(workdir: str) -> dict[str, float]:
    """The design: tools once per integration; connections reconciled in file mode."""
    root = Path(workdir)
    (root / "big").mkdir()
    (root / "big/spec.json").write_text(_spec(OPERATIONS))
    (root / "big/integration.yaml").write_text(INTEGRATION)
    (root / "big/connections.yaml").write_text(_connections())
    db_path = root / "catalog.db"
    db = f"sqlite:///{db_path}"
    asyncio.run(_file_run(root, db, "big/integration.yaml", connections=False))
    before = _db_bytes(db_path)
    materialize = asyncio.run(_file_run(root, db, "big/connections.yaml", connections=True))
    after = _db_bytes(db_path)
    rows = _tool_rows(db_path)
    (root / "big/spec.json").write_text(_spec(OPERATIONS + 2))  # the upstream adds an operation
    asyncio.run(_file_run(root, db, "big/integration.yaml", connections=False))
    rebuild, rebuilt = asyncio.run(_rebuild(root, db))
    assert rebuilt == CONNECTIONS, rebuilt
    return {
        "materialize_s": materialize,
        "db_bytes": float(after),
        "connections_bytes": float(after - before),
        "tool_rows": float(rows),
        "rebuild_s": rebuild,
    }


def copies(workdir: str) -> dict[str, float]:
    """The reference design through the same write path: each connection stores every tool."""
    from switchboard.catalog.ports import ConnectionWrite, IntegrationWrite, WriteBatch
    from switchboard.models.connection import ConnectionRecord
    from switchboard.models.records import ToolSet
    from switchboard.storage.connections import SqlConnectionStore
    from switchboard.storage.database import open_database
    from switchboard.storage.repository import SqlCatalogStore

    root = Path(workdir)
    (root / "big").mkdir()
    (root / "big/spec.json").write_text(_spec(OPERATIONS))
    (root / "big/integration.yaml").write_text(INTEGRATION)
    db_path = root / "scratch.db"
    db = f"sqlite:///{db_path}"
    asyncio.run(_file_run(root, db, "big/integration.yaml", connections=False))
    engine = open_database(db)
    catalog, store = SqlCatalogStore(engine), SqlConnectionStore(engine)
    record = catalog.get("bench", "big")
    assert record is not None
    toolset = ToolSet(tools=[s.tool for s in catalog.tools("bench", "big")])
    # The reference keeps no integration-scope tools: drop them so only the copies remain.
    catalog.apply(WriteBatch(integrations=[IntegrationWrite(record, ToolSet())]))
    before = _db_bytes(db_path)

    def writes(tools: ToolSet) -> list[ConnectionWrite]:
        return [
            ConnectionWrite(
                ConnectionRecord(
                    tenant="bench",
                    owner="user",
                    subject=f"user{n}@bench.example",
                    integration="big",
                    name="main",
                    template="apikey-0",
                    provider="env",
                    item_ids={"token": "BENCH_TOKEN"},
                    tools_synced_at=1,
                ),
                tools,
            )
            for n in range(CONNECTIONS)
        ]

    started = time.perf_counter()
    store.apply_connections(writes(ToolSet()))  # the same rows, no tools: the shared design
    rows_only = time.perf_counter() - started
    started = time.perf_counter()
    store.apply_connections(writes(toolset))
    materialize = time.perf_counter() - started
    after = _db_bytes(db_path)
    rows = _tool_rows(db_path)
    started = time.perf_counter()
    store.apply_connections(writes(toolset))  # a rebuild rewrites every copy
    rebuild = time.perf_counter() - started
    engine.dispose()
    return {
        "materialize_s": materialize,
        "rows_only_s": rows_only,
        "db_bytes": float(after),
        "connections_bytes": float(after - before),
        "tool_rows": float(rows),
        "rebuild_s": rebuild,
    }


def _measure(fn: Any) -> tuple[dict[str, float], float]:
    workdir = tempfile.mkdtemp(prefix="sb-bench-conn-")
    try:
        measured = isolated(fn, workdir)
        return measured.result, measured.peak_rss_mb
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run() -> list[Row]:
    ours, our_rss = _measure(shared)
    theirs, their_rss = _measure(copies)
    case = f"{OPERATIONS} ops x {CONNECTIONS} connections"
    mb = 1024 * 1024
    return [
        Row(BENCH, case, "materialize all (shared, file mode)", ours["materialize_s"], "s"),
        Row(BENCH, case, "materialize all (per-connection copies)", theirs["materialize_s"], "s"),
        Row(BENCH, case, "connection rows only, same write path", theirs["rows_only_s"], "s"),
        Row(
            BENCH,
            case,
            "materialize time ratio shared/copies",
            ours["materialize_s"] / theirs["materialize_s"],
            "x",
            "< 1",
            ours["materialize_s"] < theirs["materialize_s"],
        ),
        Row(BENCH, case, "database size (shared)", ours["db_bytes"] / mb, "MiB"),
        Row(BENCH, case, "database size (copies)", theirs["db_bytes"] / mb, "MiB"),
        Row(BENCH, case, "added by connections (shared)", ours["connections_bytes"] / mb, "MiB"),
        Row(BENCH, case, "added by connections (copies)", theirs["connections_bytes"] / mb, "MiB"),
        Row(
            BENCH,
            case,
            "database size ratio shared/copies",
            ours["db_bytes"] / theirs["db_bytes"],
            "x",
            "< 0.1",
            ours["db_bytes"] < 0.1 * theirs["db_bytes"],
        ),
        Row(BENCH, case, "tool rows (shared)", ours["tool_rows"], "rows"),
        Row(BENCH, case, "tool rows (copies)", theirs["tool_rows"], "rows"),
        Row(BENCH, case, "rebuild all after spec change (shared)", ours["rebuild_s"], "s"),
        Row(BENCH, case, "rebuild all after spec change (copies)", theirs["rebuild_s"], "s"),
        Row(
            BENCH,
            case,
            "rebuild time ratio shared/copies",
            ours["rebuild_s"] / theirs["rebuild_s"],
            "x",
            "< 1",
            ours["rebuild_s"] < theirs["rebuild_s"],
        ),
        Row(BENCH, case, "peak RSS (shared run)", our_rss, "MiB"),
        Row(BENCH, case, "peak RSS (copies run)", their_rss, "MiB"),
    ]
