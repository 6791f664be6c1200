"""Fixtures for the MCP plugin tests: a plugin context whose outbound policy allows loopback
(and nothing else private), with and without stdio, and the demo server running."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from plugins.mcp.servers import Running, demo_server, serve, streamable
from switchboard.plugins.contract import PluginContext
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy, client_factory

LOOPBACK = ["127.0.0.0/8", "::1"]


def make_context(http: OutboundClient, policy: OutboundPolicy, **kwargs: object) -> PluginContext:
    return PluginContext(
        documents=SourceReader(http=http, max_bytes=policy.max_bytes),
        http=http,
        client_factory=client_factory(policy),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def ctx() -> AsyncIterator[PluginContext]:
    policy = OutboundPolicy.from_allow(LOOPBACK)
    http = OutboundClient(policy)
    yield make_context(http, policy, detect_deadline=10.0)
    await http.aclose()


@pytest.fixture
async def stdio_ctx() -> AsyncIterator[PluginContext]:
    policy = OutboundPolicy.from_allow(LOOPBACK)
    http = OutboundClient(policy)
    yield make_context(http, policy, allow_stdio=True)
    await http.aclose()


@pytest.fixture
async def public_ctx() -> AsyncIterator[PluginContext]:
    """The default policy: loopback refused."""
    policy = OutboundPolicy.from_allow([])
    http = OutboundClient(policy)
    yield make_context(http, policy, detect_deadline=5.0)
    await http.aclose()


@pytest.fixture
def demo() -> Iterator[Running]:
    with serve(streamable(demo_server())) as running:
        yield running
