"""The outbound-safety policy: which URLs, host names and addresses may be fetched. Refusal messages
never reveal what a name resolved to."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from switchboard.errors import FetchError, URLNotAllowedError

MAX_REDIRECTS = 10
MAX_URL_LENGTH = 2048
ALLOW_HINT = "allow it with SWITCHBOARD_OUTBOUND_ALLOW"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# RFC 6761: `localhost` and its subdomains always mean this machine, whatever DNS says.
_LOCAL_ADDRESSES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


def parse_allow(entries: Sequence[str]) -> tuple[list[Network], set[str]]:
    """Split an allow-list into networks (CIDRs or single addresses) and host names (exact, or
    `*.example.internal` for every subdomain)."""
    networks: list[Network] = []
    hosts: set[str] = set()
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return networks, hosts


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: IPv4-mapped, 6to4, Teredo client or NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_special(address: Address) -> bool:
    """Not a public unicast address: private, loopback, link-local (169.254.169.254 included),
    shared, reserved, multicast, unique-local IPv6, or an IPv6 form of any of those."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None or address in _UNIQUE_LOCAL:
            return True
        if address in _NAT64:  # DNS64 synthesizes these for public IPv4-only hosts
            return is_special(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        embedded = embedded_ipv4(address)
        if embedded is not None and is_special(embedded):
            return True
    return not address.is_global or address.is_multicast or address.is_reserved


def is_local_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL, for messages: never its user info, path or query."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "the URL"
    port = f":{parsed.port}" if parsed.port else ""
    host = parsed.host if ":" not in parsed.host else f"[{parsed.host}]"
    return f"{parsed.scheme}://{host}{port}"


@dataclass
class OutboundPolicy:
    """Which destinations may be fetched. Empty allow-lists mean: public addresses only."""

    allow_networks: list[Network] = field(default_factory=list)
    allow_hosts: set[str] = field(default_factory=set)
    max_bytes: int = 64 * 1024 * 1024
    connect_timeout: float = 5.0
    deadline: float = 30.0
    max_redirects: int = MAX_REDIRECTS

    @classmethod
    def from_allow(cls, entries: Sequence[str], **kwargs: float | int) -> OutboundPolicy:
        networks, hosts = parse_allow(entries)
        return cls(allow_networks=networks, allow_hosts=hosts, **kwargs)  # type: ignore[arg-type]

    def address_allowed(self, address: Address) -> bool:
        candidates: list[Address] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            embedded = embedded_ipv4(address)
            if embedded is not None:
                candidates.append(embedded)
        if any(c in net for c in candidates for net in self.allow_networks):
            return True
        return not is_special(address)

    def host_allowed(self, host: str) -> bool:
        """Named in the allow-list (exactly, or under a `*.` entry): exempt from address checks."""
        if host in self.allow_hosts:
            return True
        return any(
            entry.startswith("*.") and host.endswith(entry[1:]) for entry in self.allow_hosts
        )

    def check_url(self, url: str) -> tuple[str, int]:
        """The (host, port) of a URL of acceptable shape; raises URLNotAllowedError otherwise.
        Parsed the way httpx parses it, so the check and the connection agree on the host."""
        if len(url) > MAX_URL_LENGTH:
            raise URLNotAllowedError(f"the URL is longer than {MAX_URL_LENGTH} characters")
        if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
            raise URLNotAllowedError("the URL contains whitespace or control characters")
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise URLNotAllowedError("the URL cannot be parsed") from None
        if parsed.scheme not in ("http", "https"):
            raise URLNotAllowedError(
                f"only http and https URLs are fetched, not {parsed.scheme or 'none'!r}"
            )
        authority = _AUTHORITY.match(url)
        if parsed.userinfo or (authority is not None and "@" in authority.group(1)):
            raise URLNotAllowedError(
                "URLs with embedded credentials are refused; use a connection's credentials"
            )
        host = parsed.host.lower().rstrip(".")
        if not host:
            raise URLNotAllowedError("the URL has no host")
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise URLNotAllowedError(f"the URL has an invalid port {parsed.port}")
        return host, parsed.port or (443 if parsed.scheme == "https" else 80)

    def precheck_host(self, host: str) -> None:
        """Refuse, without a DNS lookup, literal addresses and local names that are not allowed."""
        if self.host_allowed(host):
            return
        if is_local_name(host):
            if not any(self.address_allowed(a) for a in _LOCAL_ADDRESSES):
                raise URLNotAllowedError(f"host {host!r} is a local name; {ALLOW_HINT}")
            return
        literal = _literal(host)
        if literal is not None and not self.address_allowed(literal):
            raise URLNotAllowedError(
                f"address {host} is loopback, private, link-local or otherwise special; "
                f"{ALLOW_HINT}"
            )

    async def resolve(self, host: str, port: int) -> str:
        """The address to connect to for `host`, checked. Every DNS answer must be acceptable."""
        host = host.lower().rstrip(".")
        self.precheck_host(host)
        literal = _literal(host)
        if literal is not None:
            return str(literal)
        if is_local_name(host) and not self.host_allowed(host):
            return str(next(a for a in _LOCAL_ADDRESSES if self.address_allowed(a)))
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise FetchError(f"cannot resolve host {host!r}") from exc
        answers = [str(info[4][0]) for info in infos]
        if not answers:
            raise FetchError(f"cannot resolve host {host!r}")
        checked = (ipaddress.ip_address(a.split("%", 1)[0]) for a in answers)  # drop a scope id
        if not self.host_allowed(host) and not all(self.address_allowed(a) for a in checked):
            raise URLNotAllowedError(
                f"host {host!r} resolves to a private or special address; {ALLOW_HINT}"
            )
        return answers[0]

    async def check_host(self, host: str, port: int) -> None:
        """Refuse hosts that are, or resolve to, special addresses unless allowed."""
        await self.resolve(host, port)
