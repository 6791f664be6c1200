"""URL detection at scale (issue 8): 200 URLs of mixed kinds on loopback servers, one of which never
answers, detected by the loaded plugins with a 2 s deadline.

Total wall time and per-URL times (against the deadline), in a fresh process, against a floor
measured in the same run: one plain GET per URL through the same outbound client, at the same
concurrency. Also how often the best answer was the kind each server really speaks.

The servers run in this process (threads); the measured clients run in spawned ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks.measure import Row, isolated

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness.http import LoopbackServer, Reply, Seen  # needs the path above

DEADLINE = 2.0
CONCURRENCY = 20
"""URLs in flight at once (each fans out to every detector)."""
SERVERS = 4
GRACE = 0.5
"""Seconds past the deadline a call may take: cancelled detectors unwind (0.25 s) plus slack."""
MIX = {"openapi-high": 60, "openapi-medium": 40, "graphql": 40, "mcp": 40, "none": 19, "hang": 1}
EXPECTED = {
    "openapi-high": ("openapi", "high"),
    "openapi-medium": ("openapi", "medium"),
    "graphql": ("graphql", "high"),
    "mcp": ("mcp", "high"),
    "none": None,
    "hang": None,
}


def _spec(n: int) -> bytes:
    return json.dumps(
        {"openapi": "3.0.3", "info": {"title": f"Service {n}"}, "paths": {"/a": {"get": {}}}}
    ).encode()


def _graphql(seen: Seen) -> Reply:
    if seen.method != "POST":
        return Reply(400, b'{"errors":[{"message":"POST a query"}]}', _JSON)
    schema: dict[str, Any] = {"queryType": {"name": "Query"}, "mutationType": None, "types": []}
    return Reply(200, json.dumps({"data": {"__schema": schema}}).encode(), _JSON)


def _mcp(seen: Seen) -> Reply:
    if seen.method != "POST":
        return Reply(405, b"", {"allow": "POST"})
    message = json.loads(seen.body or b"{}")
    if "id" not in message:
        return Reply(202, b"")
    result: dict[str, Any] = {"tools": []}
    if message.get("method") == "initialize":
        result = {
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "bench", "version": "1"},
        }
    body = {"jsonrpc": "2.0", "id": message["id"], "result": result}
    return Reply(200, json.dumps(body).encode(), _JSON)


_JSON = {"content-type": "application/json"}
_HTML = {"content-type": "text/html"}


def _populate(servers: list[LoopbackServer]) -> list[tuple[str, str]]:
    """(url, category) for every URL, spread over the servers."""
    urls = []
    n = 0
    for category, count in MIX.items():
        for i in range(count):
            server = servers[n % len(servers)]
            n += 1
            if category == "openapi-high":
                path = f"/specs/{i}.json"
                server.routes[path] = Reply(200, _spec(i), _JSON)
            elif category == "openapi-medium":
                path = f"/apps/{i}/"
                server.routes[path] = Reply(200, b"<html>docs</html>", _HTML)
                server.routes[f"{path}openapi.json"] = Reply(200, _spec(i), _JSON)
            elif category == "graphql":
                path = f"/gql/{i}/graphql"
                server.routes[path] = _graphql
            elif category == "mcp":
                path = f"/tools/{i}/mcp"
                server.routes[path] = _mcp
            elif category == "none":
                path = f"/pages/{i}"
                server.routes[path] = Reply(200, b"<html>hello</html>", _HTML)
            else:
                path = "/hang"
                server.routes[path] = Reply(200, b"", delay=600)
            urls.append((f"{server.url}{path}", category))
    return urls


@contextmanager
def _servers() -> Iterator[list[LoopbackServer]]:
    with ExitStack() as stack:
        servers = [stack.enter_context(LoopbackServer()) for _ in range(SERVERS)]
        for server in servers:
            # socketserver listens with a backlog of 5; a burst of probes would see SYN drops
            # and one-second retransmits that measure the kernel, not detection.
            server._server.socket.listen(1024)
            # http.server writes headers and body separately; with Nagle on, every answer waits
            # for a delayed ACK (40 ms), which would measure the test server, not detection.
            server._server.RequestHandlerClass.disable_nagle_algorithm = True
        yield servers


def _context() -> Any:
    from switchboard.plugins.contract import PluginContext
    from switchboard.storage.documents import SourceReader
    from switchboard.storage.outbound import OutboundClient, OutboundPolicy, client_factory

    policy = OutboundPolicy.from_allow(["127.0.0.0/8"], deadline=30.0)
    http = OutboundClient(policy)
    reader = SourceReader(http=http, max_bytes=64 << 20)
    ctx = PluginContext(
        documents=reader,
        http=http,
        client_factory=client_factory(policy),
        detect_deadline=DEADLINE,
    )
    return ctx, http


def detect_all(urls: list[str], plugins: list[str] | None = None) -> list[dict[str, Any]]:
    """In the child: detect every URL, CONCURRENCY at a time; per-URL time and best answer."""
    from switchboard.catalog.detecting import detect
    from switchboard.plugins.registry import load_plugins

    logging.disable(logging.CRITICAL)  # SDK loggers complain about every non-MCP URL
    registry = load_plugins(plugins)

    async def main() -> list[dict[str, Any]]:
        ctx, http = _context()
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(url: str) -> dict[str, Any]:
            async with gate:
                started = time.perf_counter()
                detection = await detect(url, registry, ctx)
                best = detection.best
                return {
                    "seconds": time.perf_counter() - started,
                    "best": None if best is None else [best.kind, best.confidence],
                    "outcomes": {d.plugin: d.outcome for d in detection.detectors},
                }

        try:
            return list(await asyncio.gather(*(one(u) for u in urls)))
        finally:
            await http.aclose()

    return asyncio.run(main())


def fetch_all(urls: list[str]) -> list[float]:
    """In the child, the floor: one GET per URL through the same client, same concurrency."""
    from switchboard.errors import FetchError

    async def main() -> list[float]:
        _ctx, http = _context()
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(url: str) -> float:
            async with gate:
                started = time.perf_counter()
                # The hanging URL: the floor also waits out the deadline.
                with contextlib.suppress(FetchError):
                    await http.request("GET", url, timeout=DEADLINE)
                return time.perf_counter() - started

        try:
            return list(await asyncio.gather(*(one(u) for u in urls)))
        finally:
            await http.aclose()

    return asyncio.run(main())


def run() -> list[Row]:
    case = f"{sum(MIX.values())} URLs, {DEADLINE:g} s deadline"
    with _servers() as servers:
        pairs = _populate(servers)
        urls = [u for u, _ in pairs]
        floor = isolated(fetch_all, urls)
        measured = isolated(detect_all, urls)
    answers: list[dict[str, Any]] = measured.result
    times = [a["seconds"] for a in answers]
    hang = next(a for (_, c), a in zip(pairs, answers, strict=True) if c == "hang")
    others = sorted(a["seconds"] for (_, c), a in zip(pairs, answers, strict=True) if c != "hang")
    over = sum(t > DEADLINE + GRACE for t in times)
    timeouts = sum(
        outcome == "timeout"
        for (_, c), a in zip(pairs, answers, strict=True)
        if c != "hang"
        for outcome in a["outcomes"].values()
    )
    limit = DEADLINE + GRACE
    p95 = others[int(0.95 * len(others))]
    rows = [
        Row("detection", case, "floor: one GET per URL", floor.seconds, "s"),
        Row("detection", case, "wall time", measured.seconds, "s"),
        Row("detection", case, "wall / floor", measured.seconds / floor.seconds, "x"),
        Row("detection", case, "per-URL p50 (answering URLs)", statistics.median(others), "s"),
        Row("detection", case, "per-URL p95 (answering URLs)", p95, "s"),
        Row("detection", case, "per-URL p95 / deadline", p95 / DEADLINE, "x"),
        Row("detection", case, "per-URL max (answering URLs)", others[-1], "s"),
        Row(
            "detection",
            case,
            "hanging URL time",
            hang["seconds"],
            "s",
            target=f"<= {limit:g} s",
            ok=hang["seconds"] <= limit,
        ),
        Row("detection", case, "hanging URL / deadline", hang["seconds"] / DEADLINE, "x"),
        Row(
            "detection",
            case,
            "URLs over deadline + grace",
            over,
            "count",
            target="0",
            ok=over == 0,
        ),
        Row("detection", case, "detector timeouts (answering URLs)", timeouts, "count"),
        Row("detection", case, "peak RSS", measured.peak_rss_mb, "MB"),
    ]
    for category, expected in EXPECTED.items():
        picked = [a for (_, c), a in zip(pairs, answers, strict=True) if c == category]
        right = sum((tuple(a["best"]) if a["best"] else None) == expected for a in picked)
        want = f"{expected[0]} {expected[1]}" if expected else "nothing"
        rows.append(
            Row(
                "detection",
                case,
                f"best = {want} ({category})",
                right / len(picked),
                "fraction",
                extra={"right": right, "of": len(picked)},
            )
        )
    for row in rows:
        print(f"{row.case:>26} | {row.metric:<38} {row.value:10.3f} {row.unit}")
    return rows
