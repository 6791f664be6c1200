"""Discovery with the official MCP SDK: connect (streamable HTTP, SSE or stdio), initialize, and
list tools following `nextCursor`, all under one deadline and the outbound-safety policy.

Failures come back as `DiscoveryError` with a CamelCase reason and a static message; the SDK's
exceptions (nested in task-group exception groups) are read once, here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

import anyio
import httpx2
from mcp import Client
from mcp.client._transport import Transport, TransportStreams
from mcp.client.session import IncomingMessage
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import Implementation, Tool, ToolListChangedNotification
from pydantic import ValidationError

from switchboard.errors import SwitchboardError
from switchboard.plugins.mcp.bridging import BridgedFactory, ResponseTooLarge
from switchboard.plugins.mcp.stdio import StdioCommand, stdio_transport

RemoteTransport = Literal["auto", "streamable-http", "sse"]
MAX_PAGES = 100
"""tools/list pages followed at most (the reference's cap): a paginator that never ends stops."""
MAX_TOOLS = 20_000
"""More tools than this is not a tool catalog an agent can use; refuse rather than store it."""
FALLBACK_REASONS = frozenset({"HttpError", "ProtocolError"})
"""Failures of a streamable-HTTP handshake that suggest an SSE-only server."""
CLIENT_INFO = Implementation(name="switchboard", version="0.1.0")


@dataclass(frozen=True)
class RemoteTarget:
    url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    transport: RemoteTransport = "auto"


Target = RemoteTarget | StdioCommand


@dataclass
class Discovery:
    """What one successful discovery saw."""

    tools: list[Tool]
    transport: str
    server_name: str | None = None
    server_version: str | None = None
    instructions: str | None = None
    protocol_version: str | None = None
    pages: int = 1
    list_changed_seen: bool = False
    """A `notifications/tools/list_changed` arrived while listing (the list was re-read)."""
    announces_changes: bool = False
    """The server declares `tools.listChanged`: a watcher will hear about changes."""


class DiscoveryError(Exception):  # an observation, not a SwitchboardError: callers decide
    """Discovery did not complete. `reason` is CamelCase, the message static and secret-free."""

    def __init__(self, reason: str, message: str, *, status: int | None = None) -> None:
        self.reason = reason
        self.status = status
        super().__init__(message)

    @property
    def auth_required(self) -> bool:
        return self.reason == "Unauthorized"


LIST_CHANGED_GRACE = 0.1
"""Seconds to wait, after a listing, for a `list_changed` the server sent during it."""


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def explain(exc: BaseException, where: str) -> DiscoveryError:
    """The most telling leaf of a (possibly grouped) SDK exception as a `DiscoveryError`."""
    leaves = _leaves(exc)
    for leaf in leaves:
        if isinstance(leaf, DiscoveryError):
            return leaf
        if isinstance(leaf, SwitchboardError):
            return DiscoveryError(leaf.reason, leaf.detail)
    for leaf in leaves:
        if isinstance(leaf, httpx2.HTTPStatusError):
            status = leaf.response.status_code
            if status == 401:
                return DiscoveryError("Unauthorized", f"{where} asks for credentials", status=401)
            return DiscoveryError("HttpError", f"{where} answered HTTP {status}", status=status)
        if isinstance(leaf, httpx2.SSEError):
            return DiscoveryError("ProtocolError", f"{where} did not answer with an event stream")
        if isinstance(leaf, ResponseTooLarge):
            return DiscoveryError("TooLarge", f"{where} sent an answer over the size cap")
        if isinstance(leaf, httpx2.TimeoutException | TimeoutError):
            return DiscoveryError("Timeout", f"{where} did not answer in time")
        if isinstance(leaf, httpx2.TransportError | OSError | anyio.BrokenResourceError):
            return DiscoveryError("Unreachable", f"cannot reach {where}")
    for leaf in leaves:
        if isinstance(leaf, MCPError):
            if "401" in leaf.error.message or "nauthori" in leaf.error.message:
                return DiscoveryError("Unauthorized", f"{where} asks for credentials", status=401)
            return DiscoveryError("ProtocolError", f"{where} answered with an MCP error")
        if isinstance(leaf, ValidationError | ValueError):
            return DiscoveryError("ProtocolError", f"{where} sent malformed JSON-RPC")
    return DiscoveryError("ProtocolError", f"{where} did not complete the MCP handshake")


def _transport(target: Target, factory: BridgedFactory | None, kind: str) -> Transport:
    if isinstance(target, StdioCommand):
        return stdio_transport(target)
    if factory is None:
        raise DiscoveryError("NoOutboundClient", "no outbound HTTP client is configured")
    if kind == "sse":
        return sse_client(target.url, headers=target.headers, httpx_client_factory=factory)
    return _streamable(target, factory)


@asynccontextmanager
async def _streamable(
    target: RemoteTarget, factory: BridgedFactory
) -> AsyncIterator[TransportStreams]:
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(factory(headers=target.headers))
        streams = await stack.enter_async_context(
            streamable_http_client(target.url, http_client=http)
        )
        yield streams


@asynccontextmanager
async def connect(
    target: Target,
    factory: BridgedFactory | None,
    *,
    kind: str,
    on_message: Callable[[IncomingMessage], None] | None = None,
) -> AsyncIterator[Client]:
    """An initialized SDK client on one transport (`streamable-http`, `sse` or `stdio`)."""

    async def handler(message: IncomingMessage) -> None:
        if on_message is not None:
            on_message(message)
        await anyio.lowlevel.checkpoint()

    client = Client(
        _transport(target, factory, kind),
        client_info=CLIENT_INFO,
        message_handler=handler,
        cache=None,
    )
    async with client:
        yield client


async def list_all_tools(
    client: Client, *, max_pages: int = MAX_PAGES, max_tools: int = MAX_TOOLS
) -> tuple[list[Tool], int]:
    """Every tool, following `nextCursor`; a repeated cursor or too many pages is a failure."""
    tools: list[Tool] = []
    cursor: str | None = None
    seen: set[str] = set()
    for page in range(1, max_pages + 1):
        result = await client.list_tools(cursor=cursor, cache_mode="bypass")
        tools.extend(result.tools)
        if len(tools) > max_tools:
            raise DiscoveryError("TooManyTools", f"the server lists more than {max_tools} tools")
        cursor = result.next_cursor
        if not cursor:
            return tools, page
        if cursor in seen:
            raise DiscoveryError("PaginationLoop", "the server repeated a tools/list cursor")
        seen.add(cursor)
    raise DiscoveryError("TooManyPages", f"tools/list did not end within {max_pages} pages")


def transports(target: Target) -> list[str]:
    if isinstance(target, StdioCommand):
        return ["stdio"]
    if target.transport == "auto":
        return ["streamable-http", "sse"]
    return [target.transport]


def _where(target: Target) -> str:
    return "the stdio server" if isinstance(target, StdioCommand) else "the MCP endpoint"


async def _discover_once(
    target: Target, factory: BridgedFactory | None, kind: str, progress: list[str]
) -> Discovery:
    changed = anyio.Event()

    def on_message(message: IncomingMessage) -> None:
        if isinstance(message, ToolListChangedNotification):
            changed.set()

    async with connect(target, factory, kind=kind, on_message=on_message) as client:
        progress.append(kind)
        tools, pages = await list_all_tools(client)
        capability = client.server_capabilities.tools
        if capability and capability.list_changed and not changed.is_set():
            # A notification sent while the list was built can be dispatched just after its
            # response; give it a moment so a list that moved under us is not taken as current.
            with anyio.move_on_after(LIST_CHANGED_GRACE):
                await changed.wait()
        seen_change = changed.is_set()
        if seen_change:  # the list moved under us: read it once more, then take what it is
            tools, pages = await list_all_tools(client)
        info = client.server_info
        return Discovery(
            tools=tools,
            transport=kind,
            server_name=info.name if info else None,
            server_version=(info.version or None) if info else None,
            instructions=client.instructions,
            protocol_version=client.protocol_version,
            pages=pages,
            list_changed_seen=seen_change,
            announces_changes=bool(capability and capability.list_changed),
        )


async def discover(target: Target, factory: BridgedFactory | None, *, deadline: float) -> Discovery:
    """Initialize and list tools within `deadline` seconds; `auto` tries streamable HTTP, then
    SSE, unless the first answer was a credential request (that is the server's verdict)."""
    where = _where(target)
    failure: DiscoveryError | None = None
    connected: list[str] = []
    try:
        with anyio.fail_after(deadline):
            for kind in transports(target):
                try:
                    return await _discover_once(target, factory, kind, connected)
                except anyio.get_cancelled_exc_class():
                    raise
                except Exception as exc:  # SDK errors of every kind are read by `explain`
                    latest = explain(exc, where)
                    # The fallback's failure tells more only if it got further than the first.
                    failure = latest if failure is None or connected else failure
                    # Only a transport that could not even initialize earns the SSE fallback.
                    if connected or latest.reason not in FALLBACK_REASONS:
                        break
    except TimeoutError:
        raise DiscoveryError(
            "Timeout", f"{where} did not finish discovery within {deadline:g} s"
        ) from None
    assert failure is not None
    if isinstance(target, StdioCommand) and target.returncode is not None:
        raise DiscoveryError(
            "ProcessExited", f"the stdio server exited with status {target.returncode}"
        ) from failure
    raise failure
