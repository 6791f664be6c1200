"""The MCP SDK speaks `httpx2`; the outbound-safety policy is an `httpx` client factory. This
bridge is an `httpx2` transport that sends every request (each redirect hop too, since the SDK
follows redirects itself) through a client from `ctx.client_factory`, streaming the answer back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import httpx2

from switchboard.errors import SwitchboardError
from switchboard.plugins.contract import ClientFactory

EVENT_STREAM = "text/event-stream"


class ResponseTooLarge(httpx2.ReadError):
    """A non-streaming answer went over the size cap."""


class _Stream(httpx2.AsyncByteStream):
    """The raw (still encoded) body of an `httpx` response, capped unless it is an event stream
    (the SDK caps each event of those itself)."""

    def __init__(self, response: httpx.Response, request: httpx2.Request, cap: int | None) -> None:
        self._response = response
        self._request = request
        self._cap = cap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        try:
            async for chunk in self._response.aiter_raw():
                size += len(chunk)
                if self._cap is not None and size > self._cap:
                    raise ResponseTooLarge(
                        f"answer over the {self._cap:,}-byte cap", request=self._request
                    )
                yield chunk
        except httpx.TimeoutException as exc:
            raise httpx2.ReadTimeout(type(exc).__name__, request=self._request) from exc
        except httpx.TransportError as exc:
            raise httpx2.ReadError(type(exc).__name__, request=self._request) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


class PolicyBridge(httpx2.AsyncBaseTransport):
    """An `httpx2` transport over an `httpx` client that enforces the outbound policy."""

    def __init__(self, client: httpx.AsyncClient, *, max_bytes: int | None) -> None:
        self._client = client
        self._max_bytes = max_bytes

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        timeout = request.extensions.get("timeout")
        outbound = self._client.build_request(
            request.method,
            str(request.url),
            headers=list(request.headers.multi_items()),
            content=body or None,
            timeout=httpx.Timeout(**timeout) if isinstance(timeout, dict) else None,
        )
        try:
            # The SDK applies its own same-origin redirect rule, so it must see the 3xx.
            response = await self._client.send(outbound, stream=True, follow_redirects=False)
        except SwitchboardError:
            raise  # the policy refused the URL: the caller reports it as such
        except httpx.TimeoutException as exc:
            raise httpx2.ConnectTimeout(type(exc).__name__, request=request) from exc
        except httpx.TransportError as exc:
            raise httpx2.ConnectError(type(exc).__name__, request=request) from exc
        streaming = response.headers.get("content-type", "").startswith(EVENT_STREAM)
        return httpx2.Response(
            status_code=response.status_code,
            headers=list(response.headers.multi_items()),
            stream=_Stream(response, request, None if streaming else self._max_bytes),
            request=request,
        )

    async def aclose(self) -> None:
        await self._client.aclose()


class BridgedFactory:
    """Makes `httpx2.AsyncClient`s whose transport is a `PolicyBridge`."""

    def __init__(self, factory: ClientFactory, *, max_bytes: int | None) -> None:
        self._factory = factory
        self._max_bytes = max_bytes

    def __call__(
        self,
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        inner = self._factory()
        return httpx2.AsyncClient(
            transport=PolicyBridge(inner, max_bytes=self._max_bytes),
            headers=headers,
            timeout=timeout if timeout is not None else httpx2.Timeout(30.0, read=300.0),
            auth=auth,
            follow_redirects=False,
            trust_env=False,
        )
