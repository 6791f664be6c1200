"""Outbound HTTP under one safety policy: http(s) only, DNS answers checked against private and
special ranges (unless allowed), redirects followed by hand and re-checked per hop, a connect
timeout and a total deadline, and a response size cap."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from switchboard.errors import FetchError, URLNotAllowedError
from switchboard.plugins.contract import HttpResponse

MAX_REDIRECTS = 10
MAX_URL_LENGTH = 2048
USER_AGENT = "switchboard/0.1"
_REDIRECTS = {301, 302, 303, 307, 308}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_allow(entries: Sequence[str]) -> tuple[list[Network], set[str]]:
    """Split an allow-list into networks (CIDRs or single addresses) and host names."""
    networks: list[Network] = []
    hosts: set[str] = set()
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return networks, hosts


def _special(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _special(address.ipv4_mapped)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (
            isinstance(address, ipaddress.IPv6Address)
            and address in ipaddress.ip_network("fc00::/7")
        )
    )


@dataclass
class OutboundPolicy:
    """Which destinations may be fetched. Empty allow-lists mean: public addresses only."""

    allow_networks: list[Network] = field(default_factory=list)
    allow_hosts: set[str] = field(default_factory=set)
    max_bytes: int = 64 * 1024 * 1024
    connect_timeout: float = 5.0
    deadline: float = 30.0

    @classmethod
    def from_allow(cls, entries: Sequence[str], **kwargs: float | int) -> OutboundPolicy:
        networks, hosts = parse_allow(entries)
        return cls(allow_networks=networks, allow_hosts=hosts, **kwargs)  # type: ignore[arg-type]

    def _allowed_address(self, address: Address) -> bool:
        if any(address in net for net in self.allow_networks):
            return True
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None and any(mapped in net for net in self.allow_networks):
            return True
        return not _special(address)

    def check_url(self, url: str) -> tuple[str, int]:
        """The (host, port) of an acceptable URL; raises URLNotAllowedError otherwise."""
        if len(url) > MAX_URL_LENGTH:
            raise URLNotAllowedError(f"URL is longer than {MAX_URL_LENGTH} characters")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise URLNotAllowedError(
                f"only http and https URLs are fetched, not {parts.scheme or 'none'!r}"
            )
        if parts.username or parts.password:
            raise URLNotAllowedError("URLs with embedded credentials are refused")
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise URLNotAllowedError("the URL has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise URLNotAllowedError("the URL has an invalid port") from None
        return host, port

    async def check_host(self, host: str, port: int) -> None:
        """Refuse hosts that are, or resolve to, special addresses unless allowed. The message
        never reveals what a name resolved to."""
        if host in self.allow_hosts:
            return
        loopback_allowed = any(ipaddress.ip_address("127.0.0.1") in n for n in self.allow_networks)
        if (host == "localhost" or host.endswith(".localhost")) and not loopback_allowed:
            raise URLNotAllowedError(f"host {host!r} is a local name")
        try:
            literal: Address | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            if not self._allowed_address(literal):
                raise URLNotAllowedError(f"address {host} is private or special")
            return
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise FetchError(f"cannot resolve host {host!r}") from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not self._allowed_address(address):
                raise URLNotAllowedError(f"host {host!r} resolves to a private or special address")


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
            transport=transport,
            trust_env=False,
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
        deadline = timeout if timeout is not None else self.policy.deadline
        try:
            async with asyncio.timeout(deadline):
                return await self._follow(
                    method, url, headers, content, max_bytes or self.policy.max_bytes
                )
        except TimeoutError:
            raise FetchError(
                f"no complete answer from {_origin(url)} within {deadline:g} s"
            ) from None

    async def _follow(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        max_bytes: int,
    ) -> HttpResponse:
        for _hop in range(MAX_REDIRECTS + 1):
            host, port = self.policy.check_url(url)
            await self.policy.check_host(host, port)
            try:
                request = self._client.build_request(method, url, headers=headers, content=content)
                response = await self._client.send(request, stream=True)
            except httpx.TransportError as exc:
                raise FetchError(f"cannot reach {_origin(url)}: {type(exc).__name__}") from exc
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method == "POST"
                    ):
                        method, content = "GET", None
                    continue
                body = await _read_capped(response, max_bytes, url)
                return HttpResponse(
                    url=url,
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=body,
                )
            finally:
                await response.aclose()
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {_origin(url)}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


async def _read_capped(response: httpx.Response, max_bytes: int, url: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"response from {_origin(url)} is over the {max_bytes:,}-byte cap")
    chunks = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"response from {_origin(url)} is over the {max_bytes:,}-byte cap")
            chunks.append(chunk)
    except httpx.TransportError as exc:
        raise FetchError(f"connection to {_origin(url)} broke: {type(exc).__name__}") from exc
    return b"".join(chunks)


class PolicyTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks every request against the policy before sending it; with
    `follow_redirects=True` each hop comes through here again, so redirects are re-checked."""

    def __init__(
        self, policy: OutboundPolicy, inner: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.policy = policy
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host, port = self.policy.check_url(str(request.url))
        await self.policy.check_host(host, port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def client_factory(policy: OutboundPolicy):  # type: ignore[no-untyped-def]
    """A `ClientFactory` for SDKs: clients whose transport enforces `policy`."""

    def make(
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        auth: httpx.Auth | None = None,
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=PolicyTransport(policy),
            headers=headers,
            timeout=timeout or httpx.Timeout(policy.deadline, connect=policy.connect_timeout),
            auth=auth,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            trust_env=False,
        )

    return make
