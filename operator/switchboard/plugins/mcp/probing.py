"""The I/O around the shape classifier: send the `initialize` POST (and the GET or the RFC 9728
fetch the classifier asks for), record each answer, and return the verdict.

Requests go through `ctx.client_factory` (the outbound policy) rather than `ctx.http` because an
MCP endpoint may answer with an event stream that never ends: the probe reads the headers of
such an answer and stops, and reads at most `PROBE_BYTES` of any other body.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio
import httpx
import orjson

from switchboard.errors import SwitchboardError
from switchboard.plugins.contract import ClientFactory
from switchboard.plugins.mcp.shapes import (
    Outcome,
    ProbeRecord,
    Recorded,
    Shape,
    Unreached,
    next_step,
    prm_url,
)

PROBE_TIMEOUT = 8.0
"""Seconds per probe request (the reference's figure)."""
PROBE_BYTES = 64 * 1024
"""Enough of a body to see JSON-RPC or an OAuth error; the rest is not read."""
PROTOCOL_VERSION = "2025-06-18"
INITIALIZE = orjson.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "switchboard-probe", "version": "0.1.0"},
        },
    }
)


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: float,
) -> Outcome:
    try:
        with anyio.fail_after(timeout):
            request = client.build_request(
                method, url, headers=dict(headers), content=body, timeout=timeout
            )
            response = await client.send(request, stream=True)
            try:
                recorded_headers = {k.lower(): v for k, v in response.headers.items()}
                content_type = recorded_headers.get("content-type", "")
                data = b""
                if not content_type.startswith("text/event-stream"):
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) >= PROBE_BYTES:
                            break
                return Recorded(response.status_code, recorded_headers, data[:PROBE_BYTES])
            finally:
                await response.aclose()
    except SwitchboardError as exc:  # refused by the outbound policy
        return Unreached(exc.reason)
    except TimeoutError:
        return Unreached("Timeout")
    except httpx.HTTPError as exc:
        return Unreached(type(exc).__name__)


async def probe_shape(
    factory: ClientFactory,
    endpoint: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = PROBE_TIMEOUT,
) -> Shape:
    """Classify what answers at `endpoint` without credentials (reference §4.3)."""
    base = dict(headers or {})
    record = ProbeRecord()
    async with factory() as client:
        post = await _send(
            client,
            "POST",
            endpoint,
            {
                **base,
                "accept": "application/json, text/event-stream",
                "content-type": "application/json",
            },
            INITIALIZE,
            timeout,
        )
        record = ProbeRecord(post=post)
        for _ in range(3):  # at most a GET and a metadata fetch follow the POST
            step = next_step(endpoint, record)
            if isinstance(step, Shape):
                return step
            if step == "get":
                get = await _send(
                    client, "GET", endpoint, {**base, "accept": "text/event-stream"}, None, timeout
                )
                record = ProbeRecord(post=record.post, get=get, prm=record.prm)
            else:
                prm = await _send(
                    client, "GET", prm_url(endpoint), {"accept": "application/json"}, None, timeout
                )
                record = ProbeRecord(post=record.post, get=record.get, prm=prm)
    final = next_step(endpoint, record)
    assert isinstance(final, Shape), "the classifier asks for each request at most once"
    return final
