"""A remote MCP server that announces a tool list change is re-discovered by the operator with no
user action: the integration's tool count moves by itself (notifications, not polling)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml

from cluster.operating import OperatorFactory, get_json, is_ready, wait_until
from harness.kube import KubeCluster
from plugins.mcp.servers import demo_server, serve, streamable
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.mcp.discovering import RemoteTarget, connect
from switchboard.plugins.mcp.wiring import factory_for
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy, client_factory

pytestmark = pytest.mark.cluster


def _tools(cluster: KubeCluster, namespace: str) -> dict[str, Any] | None:
    item = get_json(cluster, "integration", "demo", "-n", namespace)
    return item if is_ready(item) and item.get("status", {}).get("tools") else None


async def _grow(url: str) -> None:
    policy = OutboundPolicy.from_allow(["127.0.0.0/8"])
    http = OutboundClient(policy)
    ctx = PluginContext(
        documents=SourceReader(http=http, max_bytes=1 << 20),
        http=http,
        client_factory=client_factory(policy),
    )
    try:
        async with connect(RemoteTarget(url=url), factory_for(ctx), kind="streamable-http") as mcp:
            await mcp.call_tool("grow", {})
    finally:
        await http.aclose()


def test_list_changed_moves_the_tool_count_without_a_user_action(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    with serve(streamable(demo_server())) as running:
        endpoint = f"{running.base}/mcp"
        start_operator(namespaces=(namespace,))
        manifest = {
            "apiVersion": "switchboard.dev/v1alpha1",
            "kind": "Integration",
            "metadata": {"name": "demo", "namespace": namespace},
            "spec": {"kind": "mcp", "mcp": {"transport": "remote", "endpoint": endpoint}},
        }
        kube_cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(manifest))
        first = wait_until(lambda: _tools(kube_cluster, namespace), timeout=60, what="Ready")
        before = first["status"]["tools"]["count"]
        generation = first["metadata"]["generation"]
        asyncio.run(_grow(endpoint))  # another client changes the server's tools

        def grown() -> dict[str, Any] | None:
            item = _tools(kube_cluster, namespace)
            return item if item and item["status"]["tools"]["count"] == before + 1 else None

        after = wait_until(grown, timeout=60, what="the tool count to follow the server")
        assert after["metadata"]["generation"] == generation  # nobody touched the spec
