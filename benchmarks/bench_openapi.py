"""OpenAPI registration at scale (issue 4).

Inputs: GitHub's REST description (npm package `@octokit/openapi`, installed into `.bench/npm`
on first use) and a generated Graph-scale document (`scripts/gen_graph_spec.py`: 21,600
operations, 5,600 schemas, 57 MB). For each, in fresh processes:

- floor: read the bytes, then `orjson.loads` them (time of the parse, peak RSS of the process);
  also with the cyclic GC off, as a stricter second reference;
- cold: register end to end through the real reconcile path (the plugin reads the file, parses,
  bundles, derives auth, compiles tools; reconcile computes status; `SqlCatalogStore.apply`
  writes the mirror to SQLite), timed from the read to the commit;
- warm: the same integration registered again with its spec unchanged (same specHash).

Targets: cold at most 3x the floor's time and peak RSS; warm at most 5% of cold.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.measure import Row, isolated

BENCH = Path(".bench")
NPM_PREFIX = BENCH / "npm"
GITHUB = NPM_PREFIX / "node_modules/@octokit/openapi/generated/api.github.com.json"
REPEATS = 5
"""Each measurement is the best of this many fresh processes: the machine is shared."""


def _github() -> Path:
    if not GITHUB.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install @octokit/openapi for this benchmark")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(NPM_PREFIX),
                "--no-audit",
                "--no-fund",
                "@octokit/openapi",
            ],
            check=True,
            capture_output=True,
        )
    return GITHUB


def _graph() -> Path:
    sys.path.insert(0, "scripts")
    try:
        import gen_graph_spec
    finally:
        sys.path.pop(0)
    path = BENCH / f"graph-v{gen_graph_spec.VERSION}.json"
    if not path.exists():
        gen_graph_spec.write(path)
    return path


def _floor(path: str, collect: bool) -> dict[str, float]:
    import orjson

    body = Path(path).read_bytes()
    if not collect:
        gc.disable()
    started = time.perf_counter()
    orjson.loads(body)
    return {"seconds": time.perf_counter() - started}


def _register(path: str) -> dict[str, float]:
    """Cold then warm registration in this (fresh) process; imports and migrations untimed."""
    from switchboard.catalog.ports import WriteBatch
    from switchboard.models.integration import Integration
    from switchboard.plugins.contract import PluginContext
    from switchboard.plugins.registry import load_plugins
    from switchboard.reconcile.integrations import reconcile_integration
    from switchboard.storage.database import open_database
    from switchboard.storage.documents import SourceReader
    from switchboard.storage.outbound import OutboundClient, OutboundPolicy
    from switchboard.storage.repository import SqlCatalogStore

    # Beside the input, so the spec can be hard-linked in (a symlink would leave the root).
    root = Path(tempfile.mkdtemp(prefix="openapi-", dir=Path(path).parent))
    try:
        os.link(path, root / "spec.json")
        engine = open_database(f"sqlite:///{root / 'catalog.db'}")
        store = SqlCatalogStore(engine)
        registry = load_plugins()
        registry.get("openapi")
        resource_doc = {
            "metadata": {"name": "big", "namespace": "bench", "generation": 1},
            "spec": {"kind": "openapi", "openapi": {"source": {"file": "spec.json"}}},
        }

        async def once(status: dict[str, Any] | None) -> tuple[float, Any]:
            http = OutboundClient(OutboundPolicy.from_allow([]))
            reader = SourceReader(http=http, max_bytes=256 * 1024 * 1024, root=root)
            ctx = PluginContext(documents=reader, http=http, max_spec_bytes=256 * 1024 * 1024)
            integration = Integration.model_validate({**resource_doc, "status": status})
            stored = store.get("bench", "big")
            started = time.perf_counter()
            outcome = await reconcile_integration(
                integration,
                store=store,
                registry=registry,
                ctx=ctx,
                now=datetime.now(UTC),
                manifest_hash="bench",
                stored=stored,
                prefetched=True,
                force=True,
            )
            if outcome.error is not None:
                raise outcome.error
            store.apply(WriteBatch(integrations=[outcome.write] if outcome.write else []))
            seconds = time.perf_counter() - started
            await http.aclose()
            return seconds, outcome

        cold, outcome = asyncio.run(once(None))
        cold_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        warm, again = asyncio.run(once(outcome.status.dump()))
        assert again.status.tools.count == outcome.status.tools.count
        engine.dispose()
        return {
            "cold": cold,
            "cold_rss": cold_rss,
            "warm": warm,
            "tools": float(outcome.status.tools.count),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _interleaved(path: str) -> tuple[dict[str, float], float, dict[str, float], dict[str, Any]]:
    """Best of REPEATS rounds, each round a floor, a GC-off floor and a registration in fresh
    processes one after the other, so both sides of a ratio see the same machine load."""
    floors, stricts, registers = [], [], []
    for _ in range(REPEATS):
        floors.append(isolated(_floor, path, True))
        stricts.append(isolated(_floor, path, False))
        registers.append(isolated(_register, path))
    floor = min(floors, key=lambda m: float(m.result["seconds"]))
    strict = min(stricts, key=lambda m: float(m.result["seconds"]))
    measured = min(registers, key=lambda m: float(m.result["cold"]))
    return floor.result, min(m.peak_rss_mb for m in floors), strict.result, measured.result


def _rows(case: str, path: Path) -> list[Row]:
    floor, floor_rss, strict, measured = _interleaved(str(path))
    rss = measured["cold_rss"]
    size = path.stat().st_size / 1e6
    time_ratio = measured["cold"] / floor["seconds"]
    rss_ratio = rss / floor_rss
    warm_ratio = measured["warm"] / measured["cold"]
    extra = {"mb": round(size, 1), "tools": int(measured["tools"])}
    name = "openapi"
    return [
        Row(name, case, "floor: orjson.loads", floor["seconds"], "s", extra=extra),
        Row(name, case, "floor: orjson.loads, GC off", strict["seconds"], "s"),
        Row(name, case, "cold registration (read → SQLite)", measured["cold"], "s", extra=extra),
        Row(name, case, "cold / floor time", time_ratio, "x", "≤ 3", time_ratio <= 3),
        Row(name, case, "cold / floor (GC off) time", measured["cold"] / strict["seconds"], "x"),
        Row(name, case, "floor peak RSS", floor_rss, "MB"),
        Row(name, case, "cold peak RSS", rss, "MB"),
        Row(name, case, "cold / floor peak RSS", rss_ratio, "x", "≤ 3", rss_ratio <= 3),
        Row(name, case, "warm re-registration (same specHash)", measured["warm"], "s"),
        Row(name, case, "warm / cold time", warm_ratio, "x", "≤ 0.05", warm_ratio <= 0.05),
    ]


def run() -> list[Row]:
    rows = _rows(f"GitHub REST ({GITHUB.name})", _github())
    rows += _rows("Graph-scale (generated)", _graph())
    for row in rows:
        print(f"{row.case:38} {row.metric:40} {row.value:10.3f} {row.unit:3} {row.target}")
    return rows
