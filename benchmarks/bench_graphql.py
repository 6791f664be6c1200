"""GraphQL registration from the GitHub schema (issue 6).

The introspection snapshot of `@octokit/graphql-schema` (~5 MB, ~1,600 types, 272 root fields),
installed by npm into the fixture cache, registered end to end by the plugin (read the file
through the document reader, parse, cut out and check what tools read, compile tools, `$defs`
and default selections, hash the snapshot, derive auth descriptors) in a fresh process, against
the floor measured in the same run: `orjson.loads` of the same bytes. Target: at most 3x the
floor's time. Also reported, for comparison: orjson plus graphql-core's `build_client_schema` of
the whole schema, which the plugin used to run (about 2.8x orjson by itself, before compiling
anything); peak RSS of both and of an interpreter that only imports the package; and the SDL form
of the same schema (no target: graphql-core's SDL parser is the cost there).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import Row, baseline_rss, isolated

TARGET_RATIO = 3.0
RUNS = 3
"""Each side runs this many times in fresh processes; the best run counts (noise only adds)."""


def _floor(path: str) -> dict[str, Any]:
    import orjson

    body = Path(path).read_bytes()
    started = time.perf_counter()
    document = orjson.loads(body)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "types": len(document["__schema"]["types"])}


def _library_floor(path: str) -> dict[str, Any]:
    """orjson plus graphql-core's `build_client_schema` of the whole schema (collector paused):
    what building every type with graphql-core costs, before any tool is compiled."""
    import gc

    import orjson
    from graphql import build_client_schema

    body = Path(path).read_bytes()
    started = time.perf_counter()
    gc.disable()
    schema = build_client_schema(orjson.loads(body), assume_valid=True)
    gc.enable()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "types": len(schema.type_map)}


def _register(path: str) -> dict[str, Any]:
    from switchboard.plugins.contract import PluginContext, RegistrationRequest
    from switchboard.plugins.graphql import plugin
    from switchboard.storage.documents import SourceReader
    from switchboard.storage.outbound import OutboundClient, OutboundPolicy

    file = Path(path)

    async def main() -> dict[str, Any]:
        http = OutboundClient(OutboundPolicy())
        reader = SourceReader(http=http, max_bytes=64 * 1024 * 1024, root=file.parent)
        ctx = PluginContext(documents=reader, http=http)
        config = {
            "endpoint": "https://api.github.com/graphql",
            "introspection": {"file": file.name},
            "authenticationTemplate": [
                {
                    "kind": "apikey",
                    "placements": [
                        {"carrier": "header", "name": "Authorization", "prefix": "Bearer "}
                    ],
                }
            ],
        }
        request = RegistrationRequest(tenant="bench", slug="github", config=config)
        try:
            started = time.perf_counter()
            registration = await plugin.register(request, ctx)
            plugin.describe_auth_methods(registration.record.config)
            seconds = time.perf_counter() - started
        finally:
            await http.aclose()
        return {
            "seconds": seconds,
            "tools": len(registration.toolset.tools),
            "definitions": len(registration.toolset.definitions),
            "types": registration.details["types"],
        }

    return asyncio.run(main())


def _best(fn: Any, path: str) -> tuple[float, float, dict[str, Any]]:
    """(best in-process seconds, peak RSS MB of that run, its result) over RUNS fresh processes."""
    runs = [isolated(fn, path) for _ in range(RUNS)]
    best = min(runs, key=lambda m: m.result["seconds"])
    return best.result["seconds"], best.peak_rss_mb, best.result


def _schema(form: str) -> Path:
    # The fixture generator is shared with the tests (tests/harness is importable from the
    # repository root, where `make bench` runs).
    from tests.harness.npm import github_schema

    return github_schema(form)


def run() -> list[Row]:
    rows: list[Row] = []
    json_path = str(_schema("json"))
    floor_s, floor_rss, floor = _best(_floor, json_path)
    lib_s, _, _ = _best(_library_floor, json_path)
    reg_s, reg_rss, reg = _best(_register, json_path)
    base = baseline_rss()
    ratio = reg_s / floor_s
    size = Path(json_path).stat().st_size / 1e6
    case = f"github schema.json ({size:.1f} MB, {reg['types']:,} types)"
    rows += [
        Row("graphql", case, "floor orjson.loads", floor_s, "s", extra={"types": floor["types"]}),
        Row(
            "graphql",
            case,
            "register end to end",
            reg_s,
            "s",
            extra={"tools": reg["tools"], "definitions": reg["definitions"]},
        ),
        Row(
            "graphql",
            case,
            "time ratio vs floor",
            ratio,
            "x",
            target=f"<= {TARGET_RATIO:g}",
            ok=ratio <= TARGET_RATIO,
        ),
        Row("graphql", case, "for comparison: orjson + build_client_schema", lib_s, "s"),
        Row("graphql", case, "register / (orjson + build_client_schema)", reg_s / lib_s, "x"),
        Row("graphql", case, "peak RSS register", reg_rss, "MB"),
        Row("graphql", case, "peak RSS floor", floor_rss, "MB"),
        Row("graphql", case, "peak RSS import only", base.peak_rss_mb, "MB"),
    ]
    sdl_path = str(_schema("graphql"))
    sdl_s, sdl_rss, sdl = _best(_register, sdl_path)
    sdl_case = f"github schema.graphql (SDL, {Path(sdl_path).stat().st_size / 1e6:.1f} MB)"
    rows += [
        Row("graphql", sdl_case, "register end to end", sdl_s, "s", extra={"tools": sdl["tools"]}),
        Row("graphql", sdl_case, "peak RSS register", sdl_rss, "MB"),
    ]
    for row in rows:
        print(f"{row.case}: {row.metric} = {row.value:,.3f} {row.unit} {row.target}")
    return rows
