"""Freshness for remote MCP servers: a daemon per integration listens for
`notifications/tools/list_changed` and re-discovers the tools when the server announces a change;
connections follow through the usual requeue. No polling: `refresh.interval` stays the fallback."""

from __future__ import annotations

from typing import Any

import kopf

from switchboard.errors import SwitchboardError
from switchboard.handlers.reconciling import reconcile_object
from switchboard.handlers.runtime import GROUP, VERSION, Runtime

PLURAL = "integrations"
RETRY = 30.0
"""Seconds before listening again after the server went away or refused the listener."""


def _remote_mcp(spec: kopf.Spec, status: kopf.Status, **_: Any) -> bool:
    mcp = spec.get("mcp") or {}
    return (
        spec.get("kind") == "mcp" and mcp.get("transport") == "remote" and bool(status.get("slug"))
    )


@kopf.daemon(GROUP, VERSION, PLURAL, when=_remote_mcp, cancellation_timeout=5.0)
async def listen_for_tool_changes(
    body: kopf.Body,
    namespace: str | None,
    status: kopf.Status,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    logger: kopf.Logger,
    **_: Any,
) -> None:
    runtime: Runtime = memo.runtime
    plugin = runtime.app.registry.get("mcp")
    watch = getattr(plugin, "watch", None)
    if watch is None:  # a replacement MCP plugin without a watcher: refresh.interval only
        return
    tenant, uid = namespace or "default", body.get("metadata", {}).get("uid", "")

    async def rediscover() -> None:
        await reconcile_object(body, runtime, force=True)

    async def on_change() -> None:
        logger.info("the server announced a tool list change; re-discovering")
        runtime.spawn(f"mcp-changed:{uid}", rediscover)

    while not stopped:
        record = runtime.app.store.get(tenant, str(status.get("slug")))
        if record is not None:
            try:
                await watch(record, runtime.app.plugin_context(namespace=tenant), on_change)
            except SwitchboardError as exc:
                logger.info("not listening for tool changes: %s", exc.reason)
        await stopped.wait(RETRY)
