"""The outbound client and the SDK transport against real servers on loopback: redirects re-checked
per hop, connect-time address checks, deadlines, size caps, credential headers across origins."""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from harness.http import LoopbackServer, Reply
from switchboard.errors import FetchError, URLNotAllowedError
from switchboard.storage.outbound import (
    OutboundClient,
    OutboundPolicy,
    client_factory,
    guarded_transport,
)

LOOPBACK = ["127.0.0.0/8", "::1"]


@pytest.fixture
async def loopback_client() -> AsyncIterator[OutboundClient]:
    client = OutboundClient(OutboundPolicy.from_allow(LOOPBACK))
    yield client
    await client.aclose()


@pytest.fixture
def sentinel() -> Iterator[socket.socket]:
    """A listening socket on 127.0.0.2: a refused redirect must never connect to it."""
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen()
    listener.setblocking(False)
    yield listener
    listener.close()


def _never_connected(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def _redirect(to: str, status: int = 302) -> Reply:
    return Reply(status, b"", {"location": to})


async def test_fetches_from_an_allowed_loopback_server(
    http_server: LoopbackServer, loopback_client: OutboundClient
) -> None:
    http_server.routes["/doc"] = Reply(200, b'{"ok": true}', {"content-type": "application/json"})
    response = await loopback_client.request("GET", f"{http_server.url}/doc")
    assert (response.status, response.body, response.content_type) == (
        200,
        b'{"ok": true}',
        "application/json",
    )
    assert http_server.requests[0].headers["user-agent"].startswith("switchboard/")


async def test_loopback_is_refused_unless_allowed(http_server: LoopbackServer) -> None:
    http_server.routes["/doc"] = Reply(200, b"secret")
    client = OutboundClient(OutboundPolicy())
    try:
        with pytest.raises(URLNotAllowedError, match="SWITCHBOARD_OUTBOUND_ALLOW"):
            await client.request("GET", f"{http_server.url}/doc")
    finally:
        await client.aclose()
    assert http_server.requests == []


async def test_a_name_resolving_to_loopback_is_refused(http_server: LoopbackServer) -> None:
    # `127.1` goes through the system resolver (it is no literal to ipaddress) and comes back as
    # 127.0.0.1; the policy checks the answer, and the message keeps it to itself.
    port = http_server.url.rsplit(":", 1)[1]
    http_server.routes["/doc"] = Reply(200, b"secret")
    client = OutboundClient(OutboundPolicy())
    try:
        with pytest.raises(URLNotAllowedError) as raised:
            await client.request("GET", f"http://127.1:{port}/doc")
    finally:
        await client.aclose()
    assert "127.0.0.1" not in str(raised.value)
    assert http_server.requests == []


async def test_the_connection_layer_refuses_on_its_own(http_server: LoopbackServer) -> None:
    # No pre-checks at all: a bare httpx client on the guarded transport still cannot connect.
    http_server.routes["/doc"] = Reply(200, b"secret")
    async with httpx.AsyncClient(transport=guarded_transport(OutboundPolicy())) as client:
        with pytest.raises(URLNotAllowedError):
            await client.get(f"{http_server.url}/doc")
    assert http_server.requests == []


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{sentinel}/x",  # loopback, but outside the allowed /32
        "http://[::1]:{sentinel}/x",
        "http://10.0.0.1/x",  # private: refused before any packet leaves
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::ffff:10.0.0.1]/x",  # IPv4-mapped private
        "http://[fe80::1]/x",  # link-local IPv6
        "file:///etc/passwd",
        "gopher://127.0.0.1:{sentinel}/_x",
    ],
)
async def test_redirect_chain_to_a_refused_address_stops_before_connecting(
    http_server: LoopbackServer, sentinel: socket.socket, target: str
) -> None:
    location = target.format(sentinel=sentinel.getsockname()[1])
    http_server.routes["/start"] = _redirect("/hop")
    http_server.routes["/hop"] = _redirect(location, 307)
    client = OutboundClient(OutboundPolicy.from_allow(["127.0.0.1/32"]))
    try:
        with pytest.raises(URLNotAllowedError):
            await client.request("GET", f"{http_server.url}/start")
    finally:
        await client.aclose()
    assert [r.path for r in http_server.requests] == ["/start", "/hop"]
    assert _never_connected(sentinel)


async def test_redirects_are_followed_within_the_policy(
    http_server: LoopbackServer, loopback_client: OutboundClient
) -> None:
    http_server.routes["/a"] = _redirect("/b", 301)
    http_server.routes["/b"] = _redirect(f"{http_server.url}/c", 308)
    http_server.routes["/c"] = Reply(200, b"done")
    response = await loopback_client.request("GET", f"{http_server.url}/a")
    assert (response.body, response.url) == (b"done", f"{http_server.url}/c")


async def test_too_many_redirects(
    http_server: LoopbackServer, loopback_client: OutboundClient
) -> None:
    http_server.routes["/loop"] = _redirect("/loop")
    with pytest.raises(FetchError, match="more than 10 redirects"):
        await loopback_client.request("GET", f"{http_server.url}/loop")
    assert len(http_server.requests) == 11


async def test_303_turns_a_post_into_a_get(
    http_server: LoopbackServer, loopback_client: OutboundClient
) -> None:
    http_server.routes["/form"] = _redirect("/result", 303)
    http_server.routes["/result"] = Reply(200, b"ok")
    await loopback_client.request("POST", f"{http_server.url}/form", content=b"a=1")
    assert [(r.method, r.body) for r in http_server.requests] == [
        ("POST", b"a=1"),
        ("GET", b""),
    ]


async def test_credentials_are_not_forwarded_to_another_origin(
    http_server: LoopbackServer, loopback_client: OutboundClient
) -> None:
    with LoopbackServer() as other:
        other.routes["/there"] = Reply(200, b"ok")
        http_server.routes["/same"] = _redirect("/here")
        http_server.routes["/here"] = _redirect(f"{other.url}/there")
        await loopback_client.request(
            "GET",
            f"{http_server.url}/same",
            headers={"Authorization": "Bearer t0ken", "Cookie": "s=1", "X-Trace": "7"},
        )
        seen_there = other.requests[0].headers
    seen_here = http_server.requests[1].headers
    assert seen_here["authorization"] == "Bearer t0ken"  # same origin keeps it
    assert "authorization" not in seen_there
    assert "cookie" not in seen_there
    assert seen_there["x-trace"] == "7"  # harmless headers travel on


async def test_a_server_that_never_answers_hits_the_deadline(http_server: LoopbackServer) -> None:
    http_server.routes["/slow"] = Reply(200, b"late", delay=30)
    client = OutboundClient(OutboundPolicy.from_allow(LOOPBACK, deadline=0.5))
    started = time.perf_counter()
    try:
        with pytest.raises(FetchError, match=r"within 0\.5 s"):
            # A caller asking for more time than the policy allows gets the policy's deadline.
            await client.request("GET", f"{http_server.url}/slow", timeout=60)
    finally:
        await client.aclose()
    assert time.perf_counter() - started < 2.0


async def test_body_over_the_cap(http_server: LoopbackServer) -> None:
    http_server.routes["/big"] = Reply(200, b"x" * 5000)
    client = OutboundClient(OutboundPolicy.from_allow(LOOPBACK, max_bytes=4096))
    try:
        with pytest.raises(FetchError, match="4,096-byte cap"):
            await client.request("GET", f"{http_server.url}/big")
        small = await client.request("GET", f"{http_server.url}/big", max_bytes=100_000)
    except FetchError:
        small = None
    finally:
        await client.aclose()
    assert small is None  # a caller cannot raise the policy's cap


async def test_a_compressed_body_is_capped_after_decoding(http_server: LoopbackServer) -> None:
    bomb = gzip.compress(b"\0" * 1_000_000)
    assert len(bomb) < 4096
    http_server.routes["/bomb"] = Reply(200, bomb, {"content-encoding": "gzip"})
    client = OutboundClient(OutboundPolicy.from_allow(LOOPBACK, max_bytes=65536))
    try:
        with pytest.raises(FetchError, match="cap"):
            await client.request("GET", f"{http_server.url}/bomb")
    finally:
        await client.aclose()


async def test_a_refused_port_is_a_temporary_error(loopback_client: OutboundClient) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    with pytest.raises(FetchError, match="ConnectError") as raised:
        await loopback_client.request("GET", f"http://127.0.0.1:{port}/")
    assert raised.value.reason == "FetchFailed"


async def test_sdk_clients_recheck_every_redirect_hop(
    http_server: LoopbackServer, sentinel: socket.socket
) -> None:
    port = sentinel.getsockname()[1]
    http_server.routes["/ok"] = Reply(200, b"fine")
    http_server.routes["/away"] = _redirect(f"http://127.0.0.2:{port}/x")
    make = client_factory(OutboundPolicy.from_allow(["127.0.0.1/32"]))
    async with make(headers={"x-client": "sdk"}) as client:
        assert (await client.get(f"{http_server.url}/ok")).content == b"fine"
        with pytest.raises(URLNotAllowedError):
            await client.get(f"{http_server.url}/away")
        with pytest.raises(URLNotAllowedError):
            await client.get("file:///etc/passwd")
    assert _never_connected(sentinel)
    assert http_server.requests[0].headers["x-client"] == "sdk"


async def test_sdk_clients_are_size_capped(http_server: LoopbackServer) -> None:
    http_server.routes["/big"] = Reply(200, b"x" * 10_000)
    make = client_factory(OutboundPolicy.from_allow(LOOPBACK, max_bytes=1000))
    async with make() as client:
        with pytest.raises(FetchError, match="1,000-byte cap"):
            await client.get(f"{http_server.url}/big")
