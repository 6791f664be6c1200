"""The endpoint shape probe as a pure function over recorded responses (reference §4.3).

`next_step(endpoint, record)` reads what has been recorded so far (the `initialize` POST, the
GET that follows a 404/405/406/415, the RFC 9728 protected-resource metadata) and answers either
a final `Shape` or the next request to make. `probing.py` does the I/O; tests feed tables.

Beyond the reference: a 5xx answer is an outage (`unreachable`/`server-error`), not proof that
the URL is not MCP, and a JSON-RPC error body on a 4xx counts as MCP.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson

from switchboard.plugins.mcp.challenges import Challenge, bearer_challenge

ShapeKind = Literal["mcp", "not-mcp", "unreachable"]
RETRY_WITH_GET = frozenset({404, 405, 406, 415})


@dataclass(frozen=True)
class Recorded:
    """One response as recorded: status, lowercased headers, the (capped) body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class Unreached:
    """A request that got no HTTP answer (refused, reset, timed out, refused by policy)."""

    error: str


Outcome = Recorded | Unreached


@dataclass(frozen=True)
class ProbeRecord:
    post: Outcome | None = None
    get: Outcome | None = None
    prm: Outcome | None = None


@dataclass(frozen=True)
class Shape:
    """The verdict. `reason` says which rule matched; `evidence` is what a status can show."""

    kind: ShapeKind
    reason: str
    requires_auth: bool = False
    status: int | None = None
    content_type: str | None = None
    resource_metadata: str | None = None
    """The RFC 9728 metadata URL the server named (or that answered for it)."""
    bearer: bool = False

    @property
    def is_mcp(self) -> bool:
        return self.kind == "mcp"

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"probe": f"{self.kind}/{self.reason}"}
        if self.status is not None:
            out["status"] = self.status
        if self.content_type:
            out["contentType"] = self.content_type
        if self.requires_auth:
            out["requiresAuth"] = True
        if self.resource_metadata:
            out["resourceMetadata"] = self.resource_metadata
        return out


Next = Literal["get", "prm"]


def prm_url(endpoint: str) -> str:
    """`{origin}/.well-known/oauth-protected-resource{path}` (RFC 9728 §3.1)."""
    parts = urlsplit(endpoint)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource{path}"


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def is_jsonrpc(body: bytes) -> bool:
    data = _json(body)
    return (
        isinstance(data, dict)
        and data.get("jsonrpc") == "2.0"
        and any(k in data for k in ("result", "error", "method"))
    )


def _is_rfc6750(body: bytes) -> bool:
    """An OAuth bearer error body: `error` is a string and there is no GraphQL `errors` list."""
    data = _json(body)
    return isinstance(data, dict) and isinstance(data.get("error"), str) and "errors" not in data


def _same_resource(endpoint: str, resource: str) -> bool:
    """Same origin, and the resource path is the endpoint's path or a prefix of it by segments."""
    want, have = urlsplit(endpoint), urlsplit(resource)
    if (want.scheme, want.netloc.lower()) != (have.scheme, have.netloc.lower()):
        return False
    path, prefix = want.path.rstrip("/"), have.path.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def prm_accepts(endpoint: str, prm: Outcome | None) -> bool:
    """The metadata names this endpoint as its resource and lists authorization servers."""
    if not isinstance(prm, Recorded) or not 200 <= prm.status < 300:
        return False
    data = _json(prm.body)
    if not isinstance(data, dict):
        return False
    resource, servers = data.get("resource"), data.get("authorization_servers")
    return (
        isinstance(resource, str)
        and _same_resource(endpoint, resource)
        and isinstance(servers, list)
        and any(isinstance(s, str) and s for s in servers)
    )


def _auth_shape(reason: str, response: Recorded, challenge: Challenge | None) -> Shape:
    return Shape(
        kind="mcp",
        reason=reason,
        requires_auth=True,
        status=response.status,
        content_type=response.content_type or None,
        resource_metadata=challenge.params.get("resource_metadata") if challenge else None,
        bearer=challenge is not None,
    )


def _unauthorized(endpoint: str, response: Recorded, record: ProbeRecord) -> Shape | Next:
    challenge = bearer_challenge(response.headers.get("www-authenticate"))
    if challenge is not None:
        if challenge.params.get("resource_metadata"):
            return _auth_shape("bearer-resource-metadata", response, challenge)
        if challenge.params.get("error"):
            return _auth_shape("bearer-error", response, challenge)
        if response.content_type == "text/event-stream":
            return _auth_shape("bearer-sse", response, challenge)
        if is_jsonrpc(response.body):
            return _auth_shape("bearer-jsonrpc", response, challenge)
        if _is_rfc6750(response.body):
            return _auth_shape("bearer-rfc6750", response, challenge)
    if record.prm is None:
        return "prm"
    if prm_accepts(endpoint, record.prm):
        shape = _auth_shape("protected-resource-metadata", response, challenge)
        return replace(shape, resource_metadata=prm_url(endpoint))
    return Shape(
        kind="not-mcp",
        reason="auth-required",
        requires_auth=True,
        status=response.status,
        content_type=response.content_type or None,
        bearer=challenge is not None,
    )


def _plain(kind: ShapeKind, reason: str, response: Outcome) -> Shape:
    if isinstance(response, Unreached):
        return Shape(kind=kind, reason=reason)
    return Shape(
        kind=kind, reason=reason, status=response.status, content_type=response.content_type or None
    )


def _classify_get(endpoint: str, get: Outcome, record: ProbeRecord) -> Shape | Next:
    if isinstance(get, Unreached):
        return _plain("unreachable", "unreachable", get)
    if get.status == 401:
        return _unauthorized(endpoint, get, record)
    if 200 <= get.status < 300 and get.content_type == "text/event-stream":
        return _plain("mcp", "sse-stream", get)
    if get.status >= 500:
        return _plain("unreachable", "server-error", get)
    return _plain("not-mcp", "wrong-shape", get)


def next_step(endpoint: str, record: ProbeRecord) -> Shape | Next:
    """The verdict for what is recorded, or which request to make next (`get` or `prm`)."""
    post = record.post
    if post is None:
        raise ValueError("the probe starts with the initialize POST")
    if isinstance(post, Unreached):
        return _plain("unreachable", "unreachable", post)
    if post.status == 401:
        return _unauthorized(endpoint, post, record)
    if 200 <= post.status < 300:
        if post.content_type == "text/event-stream":
            return _plain("mcp", "sse", post)
        if is_jsonrpc(post.body):
            return _plain("mcp", "jsonrpc", post)
        return _plain("not-mcp", "wrong-shape", post)
    if post.status in RETRY_WITH_GET:
        if record.get is None:
            return "get"
        return _classify_get(endpoint, record.get, record)
    if post.status >= 500:
        return _plain("unreachable", "server-error", post)
    if 400 <= post.status < 500 and is_jsonrpc(post.body):
        return _plain("mcp", "jsonrpc-error", post)
    return _plain("not-mcp", "wrong-shape", post)
