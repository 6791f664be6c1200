"""Outbound HTTP under one safety policy: http(s) only, every connection's address (DNS answers
included) checked against private and special ranges unless allowed, redirects re-checked per hop,
a connect timeout, a total deadline and a response size cap."""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator, Mapping
from urllib.parse import urljoin

import httpcore
import httpx

from switchboard.errors import FetchError, URLNotAllowedError
from switchboard.plugins.contract import ClientFactory, HttpResponse
from switchboard.storage.addresses import MAX_REDIRECTS, OutboundPolicy, origin

USER_AGENT = "switchboard/0.1"
_REDIRECTS = {301, 302, 303, 307, 308}
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")

__all__ = [
    "MAX_REDIRECTS",
    "GuardedBackend",
    "OutboundClient",
    "OutboundPolicy",
    "PolicyTransport",
    "client_factory",
    "guarded_transport",
]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy accepts: the name is resolved once, every answer is
    checked, and the socket goes to a checked address, so a DNS answer that changes between the
    check and the connect (rebinding) cannot reach a refused address."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:
        async with asyncio.timeout(timeout):
            address = await self.policy.resolve(host, port)
        return await self.inner.connect_tcp(
            address,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,  # type: ignore[arg-type]
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: object = None
    ) -> httpcore.AsyncNetworkStream:
        raise URLNotAllowedError("unix sockets are not an outbound destination")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle costs ~20 ms of CPU, which SDKs
    that make a client per call would otherwise spend on the event loop each time. CA bundle
    variables (SSL_CERT_FILE) are honoured; proxy variables never are."""
    return httpx.create_ssl_context(trust_env=True)


def guarded_transport(policy: OutboundPolicy) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go through `GuardedBackend`. httpx has no public hook
    for the network backend, so the pool it builds is replaced by one that has it."""
    transport = httpx.AsyncHTTPTransport(verify=_ssl_context(), trust_env=False)
    if not hasattr(transport, "_pool"):  # pragma: no cover - fails loudly if httpx changes
        raise RuntimeError("this httpx version has no connection pool to guard")
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=_ssl_context(),
        network_backend=GuardedBackend(policy),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
    )
    return transport


class OutboundClient:
    """`HttpClient` for plugins: every request, and every redirect hop, goes through the policy."""

    def __init__(
        self, policy: OutboundPolicy, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.policy = policy
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(policy.deadline, connect=policy.connect_timeout),
            headers={"user-agent": USER_AGENT},
            transport=transport or guarded_transport(policy),
            trust_env=False,  # a proxy would make the connect-time address check meaningless
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        """One request, redirects followed by hand; a caller may tighten the policy's deadline and
        size cap, never loosen them."""
        deadline = min(timeout, self.policy.deadline) if timeout else self.policy.deadline
        cap = min(max_bytes, self.policy.max_bytes) if max_bytes else self.policy.max_bytes
        try:
            async with asyncio.timeout(deadline):
                return await self._follow(method, url, dict(headers or {}), content, cap)
        except TimeoutError:
            raise FetchError(
                f"no complete answer from {origin(url)} within {deadline:g} s"
            ) from None

    async def _follow(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        max_bytes: int,
    ) -> HttpResponse:
        for _hop in range(self.policy.max_redirects + 1):
            host, _port = self.policy.check_url(url)
            self.policy.precheck_host(host)
            try:
                request = self._client.build_request(method, url, headers=headers, content=content)
                response = await self._client.send(request, stream=True)
            except httpx.TransportError as exc:
                raise FetchError(f"cannot reach {origin(url)}: {type(exc).__name__}") from exc
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    target = urljoin(url, location)
                    if origin(target) != origin(url):
                        # Credentials were meant for the first origin, never for where it points.
                        headers = {
                            k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS
                        }
                    status = response.status_code
                    if status == 303 or (status in (301, 302) and method == "POST"):
                        method, content = "GET", None
                    url = target
                    continue
                # A HEAD answer has no body, whatever its content-length says.
                body = b"" if method == "HEAD" else await _read_capped(response, max_bytes, url)
                return HttpResponse(
                    url=url,
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=body,
                )
            finally:
                await response.aclose()
        raise FetchError(f"more than {self.policy.max_redirects} redirects from {origin(url)}")


async def _read_capped(response: httpx.Response, max_bytes: int, url: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"response from {origin(url)} is over the {max_bytes:,}-byte cap")
    chunks = []
    size = 0
    try:
        # Decoded bytes are counted, so a small compressed body cannot inflate past the cap.
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"response from {origin(url)} is over the {max_bytes:,}-byte cap")
            chunks.append(chunk)
    except httpx.TransportError as exc:
        raise FetchError(f"connection to {origin(url)} broke: {type(exc).__name__}") from exc
    return b"".join(chunks)


class _CappedStream(httpx.AsyncByteStream):
    """A response body that fails once it passes the size cap (for SDK-owned clients)."""

    def __init__(self, inner: httpx.AsyncByteStream, max_bytes: int, url: str) -> None:
        self.inner = inner
        self.max_bytes = max_bytes
        self.url = url

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self.inner:
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(
                    f"response from {origin(self.url)} is over the {self.max_bytes:,}-byte cap"
                )
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class PolicyTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks every request against the policy before sending it; with
    `follow_redirects=True` each hop comes through here again, so redirects are re-checked.
    Connections are made by `GuardedBackend`; an `inner` transport given instead has its
    destination resolved and checked here."""

    def __init__(
        self, policy: OutboundPolicy, inner: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.policy = policy
        self._guarded = inner is None
        self.inner = inner or guarded_transport(policy)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        host, port = self.policy.check_url(url)
        self.policy.precheck_host(host)
        if not self._guarded:
            await self.policy.resolve(host, port)
        response = await self.inner.handle_async_request(request)
        stream = response.stream
        if isinstance(stream, httpx.AsyncByteStream):
            response.stream = _CappedStream(stream, self.policy.max_bytes, url)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def client_factory(policy: OutboundPolicy) -> ClientFactory:
    """A `ClientFactory` for SDKs: clients whose transport enforces `policy` on every hop."""

    def make(
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        auth: httpx.Auth | None = None,
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=PolicyTransport(policy),
            headers={"user-agent": USER_AGENT, **(headers or {})},
            timeout=timeout or httpx.Timeout(policy.deadline, connect=policy.connect_timeout),
            auth=auth,
            follow_redirects=True,
            max_redirects=policy.max_redirects,
            trust_env=False,
        )

    return make
