"""Real MCP servers for the tests, built with the SDK's server API and run by uvicorn on
127.0.0.1 in a thread: streamable HTTP and SSE, an optional bearer gate that answers 401 with an
RFC 9728 pointer (and serves that metadata and the authorization server's), pagination, tools
that change the list and notify, and misbehaving servers (hang after initialize)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import orjson
import uvicorn
from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import Context
from mcp.server.session import ServerSession
from mcp.server.sse import SseServerTransport
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ListToolsResult, PaginatedRequestParams, Tool, ToolAnnotations
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from harness.asgi import running

TOKEN = "s3cret-token-for-tests"
OPEN = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def demo_server(name: str = "Demo Server") -> MCPServer:
    """Three tools, one destructive, two whose names collide once sanitized."""
    server: MCPServer = MCPServer(
        name, instructions="Use get_weather for forecasts.", version="1.2.3", log_level="WARNING"
    )

    @server.tool(name="get_weather", annotations=ToolAnnotations(read_only_hint=True))
    def get_weather(city: str) -> str:
        """Forecast for a city."""
        return f"sunny in {city}"

    @server.tool(
        name="Delete Everything",
        title="Delete all records",
        annotations=ToolAnnotations(destructive_hint=True),
    )
    def delete_everything() -> str:
        return "gone"

    @server.tool(name="Get-Weather")
    def get_weather_again(city: str) -> str:
        """The same forecast, under a name that sanitizes to the first one's."""
        return city

    @server.tool(name="grow")
    async def grow(ctx: Context) -> str:
        """Adds a tool and tells listeners the list changed."""
        server.add_tool(lambda: "new", name=f"added_{len(await server.list_tools())}")
        await ctx.notify_tools_changed()
        return "grown"

    return server


def paged_server(total: int, page_size: int, *, loop_cursor: bool = False) -> Server[Any]:
    """A low-level server listing `total` tools `page_size` at a time (or, with `loop_cursor`,
    always answering with the same next cursor)."""
    tools = [
        Tool(name=f"tool_{i:05d}", description=f"Tool number {i}", input_schema={"type": "object"})
        for i in range(total)
    ]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        if loop_cursor:
            return ListToolsResult(tools=tools[:page_size], next_cursor="again")
        start = int(params.cursor) if params and params.cursor else 0
        end = start + page_size
        return ListToolsResult(
            tools=tools[start:end], next_cursor=str(end) if end < total else None
        )

    return Server("paged", on_list_tools=list_tools)


def hanging_server() -> Server[Any]:
    """Answers initialize, then never answers tools/list."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        await asyncio.sleep(3600)
        return ListToolsResult(tools=[])

    return Server("hangs", on_list_tools=list_tools)


def notifying_server() -> Server[Any]:
    """Sends `notifications/tools/list_changed` during its first tools/list (its list then
    grows), so discovery must re-read it."""
    state = {"calls": 0}
    sessions: list[ServerSession] = []

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        state["calls"] += 1
        sessions.append(ctx.session)
        if state["calls"] == 1:
            await ctx.session.send_tool_list_changed()
            # The change happens while the listing is still under way: the notification is
            # on the wire well before the (now outdated) answer.
            await anyio.sleep(0.3)
            return ListToolsResult(tools=[Tool(name="old", input_schema={"type": "object"})])
        return ListToolsResult(tools=[Tool(name="new", input_schema={"type": "object"})])

    return Server("notifies", on_list_tools=list_tools)


def sse_app(server: Server[Any]) -> Starlette:
    """A low-level server behind the legacy HTTP+SSE transport (`/sse` and `/messages/`)."""
    transport = SseServerTransport("/messages/", security_settings=OPEN)

    async def handle(request: Request) -> Response:
        async with transport.connect_sse(request.scope, request.receive, request._send) as streams:
            await server.run(streams[0], streams[1], server.create_initialization_options())
        return Response()

    return Starlette(
        routes=[
            Route("/sse", endpoint=handle, methods=["GET"]),
            Mount("/messages/", app=transport.handle_post_message),
        ]
    )


class BearerGate:
    """ASGI middleware: without `Authorization: Bearer TOKEN`, 401 with an RFC 9728 pointer.
    Serves the protected-resource metadata and the authorization server's RFC 8414 metadata."""

    def __init__(self, app: ASGIApp, *, registration: bool = True, challenge: str | None = None):
        self.app = app
        self.registration = registration
        self.challenge = challenge
        self.base = ""

    async def _json(self, send: Send, status: int, body: object, headers: dict[str, str]) -> None:
        data = orjson.dumps(body)
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        raw += [(k.encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": data})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("/.well-known/oauth-protected-resource"):
            resource = self.base + (
                path.removeprefix("/.well-known/oauth-protected-resource") or "/"
            )
            await self._json(
                send,
                200,
                {
                    "resource": resource,
                    "authorization_servers": [f"{self.base}/auth"],
                    "scopes_supported": ["tools:read", "tools:call"],
                },
                {},
            )
            return
        if path == "/.well-known/oauth-authorization-server/auth":
            metadata = {
                "issuer": f"{self.base}/auth",
                "authorization_endpoint": f"{self.base}/auth/authorize",
                "token_endpoint": f"{self.base}/auth/token",
                "scopes_supported": ["tools:read", "tools:call", "admin"],
                "code_challenge_methods_supported": ["S256"],
            }
            if self.registration:
                metadata["registration_endpoint"] = f"{self.base}/auth/register"
            await self._json(send, 200, metadata, {})
            return
        headers = dict(scope["headers"])
        if headers.get(b"authorization") != f"Bearer {TOKEN}".encode():
            challenge = self.challenge or (
                f'Bearer resource_metadata="{self.base}/.well-known/oauth-protected-resource{path}"'
            )
            body = {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32001, "message": "Unauthorized"},
            }
            await self._json(send, 401, body, {"www-authenticate": challenge})
            return
        await self.app(scope, receive, send)


class LegacyOnly:
    """ASGI middleware that answers `server/discover` with "method not found", as servers of
    the handshake era do, so clients fall back to `initialize` (and per-session notifications)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        data = orjson.loads(body) if body.startswith(b"{") else None
        if isinstance(data, dict) and data.get("method") == "server/discover":
            error = {"code": -32601, "message": "Method not found"}
            reply = orjson.dumps({"jsonrpc": "2.0", "id": data.get("id"), "error": error})
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(reply)).encode()),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": reply})
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class Running:
    def __init__(self, server: uvicorn.Server, port: int) -> None:
        self.server, self.port = server, port

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serve(app: ASGIApp) -> Iterator[Running]:
    """Run an ASGI app with uvicorn on 127.0.0.1 (random port) in a thread."""

    def tell(port: int) -> None:
        if isinstance(app, BearerGate):
            app.base = f"http://127.0.0.1:{port}"

    with running(app, on_port=tell, lifespan="on", timeout_graceful_shutdown=1) as (server, port):
        yield Running(server, port)


def streamable(server: MCPServer | Server[Any]) -> Starlette:
    return server.streamable_http_app(transport_security=OPEN)
