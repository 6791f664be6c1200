"""MCP discovery at scale (issue 7).

1. A server with 5,000 tools over streamable HTTP: the plugin's registration (SDK discovery
   through the outbound policy, tool compilation) in a fresh process, wall time and peak RSS,
   against a floor measured in the same run: the bare SDK client listing the same tools with no
   policy and no compilation, and an interpreter that only imports the package.
2. 50 MCP integrations refreshed concurrently: wall time against the slowest single discovery of
   the same integrations (ideal concurrency gives a ratio near 1).

The servers run in this process (uvicorn threads); the measured clients run in spawned ones.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.measure import Row, baseline_rss, isolated

BIG = 5_000
PAGE = 500
FLEET = 50
FLEET_SERVERS = 5
FLEET_TOOLS = 100
FLEET_LATENCY = 0.25
"""Seconds each fleet server waits before answering tools/list: remote servers are not on
loopback, and overlapping their latency is what concurrency is for."""


def _server(total: int, page: int, latency: float = 0.0) -> Any:
    from mcp.server.lowlevel import Server
    from mcp_types import ListToolsResult, Tool

    tools = [
        Tool(
            name=f"Tool {i}",
            description=f"Does thing number {i}",
            input_schema={
                "type": "object",
                "properties": {"id": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["id"],
            },
        )
        for i in range(total)
    ]

    async def list_tools(ctx: Any, params: Any) -> ListToolsResult:
        if latency:
            await asyncio.sleep(latency)  # a remote server's round trip
        start = int(params.cursor) if params and params.cursor else 0
        end = start + page
        return ListToolsResult(
            tools=tools[start:end], next_cursor=str(end) if end < total else None
        )

    return Server("bench", on_list_tools=list_tools)


@contextmanager
def _serve(total: int, page: int, latency: float = 0.0) -> Iterator[str]:
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = _server(total, page, latency).streamable_http_app(transport_security=security)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _context() -> Any:
    from switchboard.plugins.contract import PluginContext
    from switchboard.storage.documents import SourceReader
    from switchboard.storage.outbound import OutboundClient, OutboundPolicy, client_factory

    policy = OutboundPolicy.from_allow(["127.0.0.0/8"])
    http = OutboundClient(policy)
    return PluginContext(
        documents=SourceReader(http=http, max_bytes=policy.max_bytes),
        http=http,
        client_factory=client_factory(policy),
    )


async def _register(url: str, ctx: Any, slug: str = "bench") -> tuple[int, float]:
    from switchboard.plugins.contract import RegistrationRequest
    from switchboard.plugins.mcp.plugin import McpPlugin

    started = time.perf_counter()
    request = RegistrationRequest(
        tenant="bench", slug=slug, config={"transport": "remote", "endpoint": url}
    )
    registration = await McpPlugin(discovery_deadline=300).register(request, ctx)
    if registration.toolset.incomplete:
        raise RuntimeError(f"discovery failed: {registration.conditions}")
    return len(registration.toolset.tools), time.perf_counter() - started


def plugin_discovery(url: str) -> int:
    count, _ = asyncio.run(_register(url, _context()))
    return count


def bare_sdk_listing(url: str) -> int:
    from mcp import Client

    async def run() -> int:
        total, cursor = 0, None
        async with Client(url, cache=None) as client:
            while True:
                page = await client.list_tools(cursor=cursor, cache_mode="bypass")
                total += len(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    return total

    return asyncio.run(run())


def fleet(urls: list[str]) -> tuple[float, float, float, int]:
    """(slowest single discovery, sum of singles, concurrent wall time, tools) for `urls`."""

    async def run() -> tuple[float, float, float, int]:
        ctx = _context()
        singles = [(await _register(url, ctx, f"s{i}"))[1] for i, url in enumerate(urls)]
        started = time.perf_counter()
        results = await asyncio.gather(
            *(_register(url, ctx, f"c{i}") for i, url in enumerate(urls))
        )
        wall = time.perf_counter() - started
        return max(singles), sum(singles), wall, sum(count for count, _ in results)

    return asyncio.run(run())


def run() -> list[Row]:
    rows: list[Row] = []
    floor_rss = baseline_rss()
    with _serve(BIG, PAGE) as url:
        isolated(bare_sdk_listing, url)  # warm the server's caches once
        bare = isolated(bare_sdk_listing, url)
        plugin = isolated(plugin_discovery, url)
    assert plugin.result == BIG
    assert bare.result == BIG
    name = f"mcp discovery, {BIG:,} tools"
    rows += [
        Row("mcp", name, "wall", plugin.seconds, "s", "ratio to bare SDK <= 2.0",
            plugin.seconds / bare.seconds <= 2.0,
            {"bare_sdk_s": round(bare.seconds, 3),
             "ratio": round(plugin.seconds / bare.seconds, 2)}),
        Row("mcp", name, "peak RSS", plugin.peak_rss_mb, "MiB",
            "over import-only floor <= 150 MiB", plugin.peak_rss_mb - floor_rss.peak_rss_mb <= 150,
            {"floor_mib": round(floor_rss.peak_rss_mb, 1),
             "bare_sdk_mib": round(bare.peak_rss_mb, 1)}),
    ]  # fmt: skip
    with _servers(FLEET_SERVERS, FLEET_TOOLS) as urls:
        endpoints = [urls[i % len(urls)] for i in range(FLEET)]
        measured = isolated(fleet, endpoints)
    slowest, total, wall, tools = measured.result
    assert tools == FLEET * FLEET_TOOLS
    ratio = wall / slowest
    speedup = total / wall
    extra = {
        "slowest_single_s": round(slowest, 3),
        "ratio": round(ratio, 2),
        "sequential_s": round(total, 3),
        "servers": FLEET_SERVERS,
        "tools_each": FLEET_TOOLS,
        "server_latency_s": FLEET_LATENCY,
    }
    case = f"{FLEET} integrations refreshed concurrently"
    # The floor is the slowest single discovery; on 2 cores the SDK's per-session CPU (client and
    # servers alike) bounds how close the fleet can get to it, so the pass mark is the speedup.
    rows.append(Row("mcp", case, "wall vs slowest single", ratio, "x", "reported", None, extra))
    rows.append(
        Row("mcp", case, "speedup over sequential", speedup, "x", ">= 3", speedup >= 3, extra)
    )
    for row in rows:
        print(f"{row.case}: {row.metric} {row.value:.3f} {row.unit} {row.extra}")
    return rows


@contextmanager
def _servers(count: int, tools: int) -> Iterator[list[str]]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield [stack.enter_context(_serve(tools, tools, FLEET_LATENCY)) for _ in range(count)]
