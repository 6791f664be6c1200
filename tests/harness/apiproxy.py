"""A recording reverse proxy in front of a kube-apiserver, for the cluster tests and benchmarks.

Clients talk plain HTTP to ``127.0.0.1:<port>``; each request is forwarded over HTTPS to the API
server with its headers (so the client's own token authenticates it) and recorded as the RBAC
attributes the API server authorizes it by: verb, API group, resource, subresource, namespace,
plus the response status. Watch streams are relayed as they arrive.

    with ApiRecorder(server_url, ca_pem) as proxy:
        ...  # point a kubeconfig at proxy.url
        proxy.records  # [ApiRequest(verb="watch", group="switchboard.dev", ...), ...]
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import threading
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "upgrade",
    "content-encoding",
}


@dataclasses.dataclass(frozen=True)
class ApiRequest:
    """One request as RBAC sees it (``resource`` empty for non-resource URLs like /apis)."""

    method: str
    path: str
    verb: str
    group: str
    resource: str
    subresource: str
    namespace: str
    status: int

    @property
    def rule(self) -> tuple[str, str, str]:
        """(group, resource[/subresource], verb), the unit an RBAC rule grants."""
        name = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return (self.group, name, self.verb)


def classify(method: str, raw_path: str) -> tuple[str, str, str, str, str]:
    """(verb, group, resource, subresource, namespace) of a Kubernetes API request path."""
    split = urlsplit(raw_path)
    parts = [p for p in split.path.split("/") if p]
    query = parse_qs(split.query)
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        return (method.lower(), "", "", "", "")  # a non-resource URL (discovery, /version)
    if not rest:
        return (method.lower(), group, "", "", "")
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0]
    named = len(rest) >= 2
    subresource = rest[2] if len(rest) >= 3 else ""
    watching = query.get("watch", ["false"])[0] in ("true", "1")
    verb = {
        "GET": "watch" if watching else ("get" if named else "list"),
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if named else "deletecollection",
    }.get(method, method.lower())
    return (verb, group, resource, subresource, namespace)


class ApiRecorder:
    """The proxy, served from its own thread and event loop; ``url`` is where clients connect."""

    def __init__(self, upstream: str, ca_pem: bytes) -> None:
        self.upstream = upstream.rstrip("/")
        self.ca_pem = ca_pem
        self.records: list[ApiRequest] = []
        self.url = ""
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._streams: set[asyncio.Task[object]] = set()

    def __enter__(self) -> ApiRecorder:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def snapshot(self) -> list[ApiRequest]:
        with self._lock:
            return list(self.records)

    def clear(self) -> None:
        with self._lock:
            self.records.clear()

    def start(self) -> ApiRecorder:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="api-recorder", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the API recording proxy did not start")
        return self

    async def _start(self) -> None:
        context = ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context, limit=0),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            auto_decompress=False,
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{port}"

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        try:
            return await self._relay(request)
        finally:
            self._streams.discard(task)

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        assert self._session is not None
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=body or None
        ) as upstream:
            verb, group, resource, subresource, namespace = classify(
                request.method, request.path_qs
            )
            with self._lock:
                self.records.append(
                    ApiRequest(
                        request.method,
                        request.path,
                        verb,
                        group,
                        resource,
                        subresource,
                        namespace,
                        upstream.status,
                    )
                )
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    response.headers[key] = value
            if "content-encoding" in upstream.headers:
                response.headers["content-encoding"] = upstream.headers["content-encoding"]
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (ConnectionResetError, aiohttp.ClientError):
                pass  # the client went away mid-stream (an operator being stopped)
            return response

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            for stream in list(self._streams):  # open watches would hold the shutdown forever
                stream.cancel()
            if self._runner is not None:
                await self._runner.cleanup()
            if self._session is not None:
                await self._session.close()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(30)
        loop.close()
        self._loop = None
