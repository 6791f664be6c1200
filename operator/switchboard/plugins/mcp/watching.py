"""Freshness: stay connected to a server and call back on every tools list change.

On a 2026-07-28 connection the change events come through `subscriptions/listen`; on an older
one as `notifications/tools/list_changed` on the session. Either way the callback only says
"stale": the caller re-runs discovery (the same path as a `refresh.interval` re-list).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress

import anyio
from mcp.client.session import IncomingMessage
from mcp_types import ToolListChangedNotification
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from switchboard.plugins.mcp.bridging import BridgedFactory
from switchboard.plugins.mcp.discovering import (
    FALLBACK_REASONS,
    DiscoveryError,
    Target,
    connect,
    explain,
    transports,
)

OnChange = Callable[[], Awaitable[None]]
PENDING_CHANGES = 16
"""Changes queued while the callback runs; more than that coalesce (one re-list covers them)."""


async def watch_tools(
    target: Target,
    factory: BridgedFactory | None,
    on_change: OnChange,
    *,
    ready: anyio.Event | None = None,
) -> None:
    """Run until the server ends the subscription (return) or the connection fails
    (`DiscoveryError`); cancel the task to stop. `ready` is set once listening."""
    send, receive = anyio.create_memory_object_stream[None](PENDING_CHANGES)

    def on_message(message: IncomingMessage) -> None:
        if isinstance(message, ToolListChangedNotification):
            # When the queue is full a re-list is already pending; it will see this change too.
            with suppress(anyio.WouldBlock):
                send.send_nowait(None)

    async with send, receive:
        failure: DiscoveryError | None = None
        connected: list[str] = []
        for kind in transports(target):
            try:
                async with connect(target, factory, kind=kind, on_message=on_message) as client:
                    connected.append(kind)
                    if client.protocol_version in MODERN_PROTOCOL_VERSIONS:
                        async with client.listen(tools_list_changed=True) as subscription:
                            if ready is not None:
                                ready.set()
                            async for _event in subscription:
                                await on_change()
                        return
                    if ready is not None:
                        ready.set()
                    async for _ in receive:
                        await on_change()
                    return
            except anyio.get_cancelled_exc_class():
                raise
            except Exception as exc:  # SDK errors of every kind are read by `explain`
                failure = explain(exc, "the MCP server")
                if connected or failure.reason not in FALLBACK_REASONS:
                    break
    assert failure is not None
    raise failure
