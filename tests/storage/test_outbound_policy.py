"""The outbound-safety policy on its own: URL shapes, special addresses, allow-lists, DNS answers."""

from __future__ import annotations

import ipaddress

import pytest

from switchboard.errors import FetchError, URLNotAllowedError
from switchboard.storage.addresses import MAX_URL_LENGTH, OutboundPolicy, is_special, origin

LOOPBACK = ["127.0.0.0/8", "::1"]


def _url_of_length(n: int) -> str:
    head = "http://example.com/"
    return head + "a" * (n - len(head))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com/", ("example.com", 80)),  # plain http, default port
        ("https://Example.COM./x", ("example.com", 443)),  # case and trailing dot normalized
        ("https://example.com:8443/x?q=1", ("example.com", 8443)),  # explicit port
        ("http://[2606:4700::1]:81/", ("2606:4700::1", 81)),  # IPv6 literal, brackets dropped
        ("http://example.com/?next=a@b", ("example.com", 80)),  # `@` in the query is not userinfo
        (_url_of_length(MAX_URL_LENGTH), ("example.com", 80)),  # exactly at the limit
    ],
)
def test_check_url_accepts(url: str, expected: tuple[str, int]) -> None:
    assert OutboundPolicy().check_url(url) == expected


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        (_url_of_length(MAX_URL_LENGTH + 1), "longer than 2048"),  # 2,049 characters
        ("file:///etc/passwd", "not 'file'"),  # local files
        ("gopher://example.com/_x", "not 'gopher'"),  # the classic SSRF smuggler
        ("ftp://example.com/", "not 'ftp'"),
        ("javascript:alert(1)", "only http and https"),
        ("example.com/openapi.json", "only http and https"),  # no scheme
        ("http://user:pass@example.com/", "embedded credentials"),
        ("http://token@example.com/", "embedded credentials"),  # user only
        ("http://@example.com/", "embedded credentials"),  # empty userinfo is still userinfo
        ("http://example.com/a b", "whitespace"),
        ("http://example.com/\x00", "control"),
        ("http:///path", "no host"),
        ("http://example.com:99999/", "invalid port"),  # port out of range
    ],
)
def test_check_url_refuses(url: str, fragment: str) -> None:
    with pytest.raises(URLNotAllowedError) as raised:
        OutboundPolicy().check_url(url)
    assert fragment in str(raised.value)
    assert raised.value.reason == "URLNotAllowed"


@pytest.mark.parametrize(
    ("address", "special"),
    [
        ("127.0.0.1", True),  # loopback
        ("10.0.0.1", True),  # RFC 1918
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),  # cloud metadata (link-local)
        ("100.64.0.1", True),  # carrier-grade NAT: not private, not global either
        ("0.0.0.0", True),  # noqa: S104 - unspecified reaches this host on Linux
        ("224.0.0.1", True),  # multicast is "global" to ipaddress but never an API
        ("255.255.255.255", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),  # link-local
        ("fd12:3456::1", True),  # unique-local
        ("fc00::1", True),
        ("::ffff:127.0.0.1", True),  # IPv4-mapped loopback
        ("::ffff:8.8.8.8", True),  # IPv4-mapped is refused whatever it maps to
        ("2002:7f00:1::1", True),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", True),  # NAT64 wrapping 10.0.0.1
        ("8.8.8.8", False),
        ("1.1.1.1", False),
        ("2606:4700:4700::1111", False),
        ("2002:808:808::1", False),  # 6to4 wrapping a public address
        ("64:ff9b::808:808", False),  # NAT64 wrapping a public address
    ],
)
def test_special_addresses(address: str, special: bool) -> None:
    assert is_special(ipaddress.ip_address(address)) is special


@pytest.mark.parametrize(
    ("allow", "address", "allowed"),
    [
        ([], "127.0.0.1", False),
        (["127.0.0.0/8"], "127.0.0.2", True),
        (["127.0.0.1/32"], "127.0.0.2", False),  # a /32 allows one address only
        (["127.0.0.1"], "127.0.0.1", True),  # a bare address is a /32
        (["127.0.0.0/8"], "::ffff:127.0.0.1", True),  # the mapped form of an allowed address
        (["127.0.0.0/8"], "::1", False),  # IPv4 loopback allowed says nothing about IPv6
        (["[::1]"], "::1", True),  # brackets are tolerated
        (["10.0.0.0/8"], "169.254.169.254", False),
        ([], "8.8.8.8", True),
    ],
)
def test_allow_networks(allow: list[str], address: str, allowed: bool) -> None:
    policy = OutboundPolicy.from_allow(allow)
    assert policy.address_allowed(ipaddress.ip_address(address)) is allowed


@pytest.mark.parametrize(
    ("allow", "host", "allowed"),
    [
        (["internal.example"], "internal.example", True),
        (["Internal.Example."], "internal.example", True),  # normalized like hosts are
        (["internal.example"], "api.internal.example", False),  # exact names are exact
        (["*.corp.example"], "api.corp.example", True),
        (["*.corp.example"], "corp.example", False),  # the wildcard needs a subdomain
        (["*.corp.example"], "evilcorp.example", False),  # a suffix is not a subdomain
    ],
)
def test_allow_hosts(allow: list[str], host: str, allowed: bool) -> None:
    assert OutboundPolicy.from_allow(allow).host_allowed(host) is allowed


@pytest.mark.parametrize(
    ("allow", "host", "refused"),
    [
        ([], "localhost", True),
        ([], "api.localhost", True),  # every *.localhost name is this machine (RFC 6761)
        (LOOPBACK, "api.localhost", False),
        (["api.localhost"], "api.localhost", False),  # allowed by name
        ([], "127.0.0.1", True),
        ([], "169.254.169.254", True),
        ([], "::ffff:169.254.169.254", True),
        ([], "example.com", False),  # names are checked when resolved, not here
    ],
)
def test_precheck_host(allow: list[str], host: str, refused: bool) -> None:
    policy = OutboundPolicy.from_allow(allow)
    if refused:
        with pytest.raises(URLNotAllowedError):
            policy.precheck_host(host)
    else:
        policy.precheck_host(host)


# `127.1`, `2130706433` and `0x7f.1` are not address literals to Python's ipaddress, but the
# system resolver turns them into 127.0.0.1: real names that resolve to a loopback address.
@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.1"])
async def test_names_resolving_to_loopback_are_refused_without_revealing_the_answer(
    host: str,
) -> None:
    with pytest.raises(URLNotAllowedError) as raised:
        await OutboundPolicy().resolve(host, 80)
    assert "resolves to a private or special address" in str(raised.value)
    assert "127.0.0.1" not in str(raised.value)


async def test_names_resolving_to_loopback_pass_when_loopback_is_allowed() -> None:
    assert await OutboundPolicy.from_allow(LOOPBACK).resolve("127.1", 80) == "127.0.0.1"


async def test_local_names_resolve_to_loopback_without_dns() -> None:
    # `api.localhost` has no DNS entry here; RFC 6761 says it is this machine anyway.
    assert await OutboundPolicy.from_allow(LOOPBACK).resolve("api.localhost", 80) == "127.0.0.1"
    only_v6 = OutboundPolicy.from_allow(["::1"])
    assert await only_v6.resolve("localhost", 80) == "::1"


async def test_unresolvable_name_is_a_temporary_fetch_error() -> None:
    with pytest.raises(FetchError, match="cannot resolve host"):
        await OutboundPolicy().resolve("nothing.invalid", 80)  # .invalid never resolves


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?key=secret", "https://example.com"),
        ("http://example.com:8080/x", "http://example.com:8080"),
        ("http://[::1]:81/", "http://[::1]:81"),
        ("not a url \x00", "the URL"),
    ],
)
def test_origin_never_shows_path_or_query(url: str, expected: str) -> None:
    assert origin(url) == expected
