"""OAuth discovery for an MCP endpoint: RFC 9728 protected-resource metadata, then the
authorization server's RFC 8414 or OpenID Connect metadata. Everything recorded is what the
documents said; nothing (dynamic registration above all) is assumed.

`parse_*` functions are pure; `discover_oauth` fetches through `ctx.http` (the outbound policy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from switchboard.errors import SwitchboardError
from switchboard.plugins.contract import HttpClient
from switchboard.plugins.mcp.shapes import prm_url

METADATA_BYTES = 256 * 1024
"""Metadata documents are small; a larger answer is not one."""


@dataclass
class OAuthFacts:
    """What the metadata documents said."""

    resource: str | None = None
    resource_metadata_url: str | None = None
    issuer: str | None = None
    metadata_url: str | None = None
    """The RFC 8414 / OpenID document that answered: the descriptor's `discoveryUrl`."""
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    registration_endpoint: str | None = None
    scopes: list[str] = field(default_factory=list)
    client_id_metadata_document: bool | None = None

    @property
    def found(self) -> bool:
        return self.metadata_url is not None or self.resource_metadata_url is not None

    @property
    def supports_dynamic_registration(self) -> bool | None:
        """True or False only when the authorization server's metadata was read."""
        if self.metadata_url is None:
            return None
        return self.registration_endpoint is not None


def _load(body: bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


def _url(value: object) -> str | None:
    if isinstance(value, str) and urlsplit(value).scheme in ("http", "https"):
        return value
    return None


def resource_matches(endpoint: str, resource: str) -> bool:
    """RFC 9728 §3.3: the metadata must be about this endpoint (same origin, path or prefix)."""
    want, have = urlsplit(endpoint), urlsplit(resource)
    if (want.scheme, want.netloc.lower()) != (have.scheme, have.netloc.lower()):
        return False
    path, prefix = want.path.rstrip("/"), have.path.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def parse_resource_metadata(endpoint: str, body: bytes) -> tuple[str, list[str], list[str]] | None:
    """(resource, authorization servers, scopes) from an RFC 9728 document about `endpoint`."""
    data = _load(body)
    if data is None:
        return None
    resource = data.get("resource")
    servers = [s for s in _strings(data.get("authorization_servers")) if _url(s)]
    if not isinstance(resource, str) or not resource_matches(endpoint, resource) or not servers:
        return None
    return resource, servers, _strings(data.get("scopes_supported"))


def metadata_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata may live: RFC 8414 §3.1 (path inserted after the well-known
    prefix), OpenID Connect Discovery (appended), and the OIDC path-inserted variant."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    urls = [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
    ]
    if path:
        urls.append(f"{origin}{path}/.well-known/openid-configuration")
    return urls


def parse_server_metadata(issuer: str, body: bytes) -> dict[str, Any] | None:
    """An RFC 8414 / OpenID document whose `issuer` is the one asked for (RFC 8414 §3.3)."""
    data = _load(body)
    if data is None or not isinstance(data.get("issuer"), str):
        return None
    if data["issuer"].rstrip("/") != issuer.rstrip("/"):
        return None
    return data


async def _get(http: HttpClient, url: str, timeout: float) -> bytes | None:
    try:
        response = await http.request(
            "GET",
            url,
            headers={"accept": "application/json"},
            max_bytes=METADATA_BYTES,
            timeout=timeout,
        )
    except SwitchboardError:  # unreachable or refused by policy: this candidate says nothing
        return None
    return response.body if 200 <= response.status < 300 else None


async def discover_oauth(
    http: HttpClient, endpoint: str, *, resource_metadata: str | None, timeout: float
) -> OAuthFacts:
    """Follow the server's pointer (or the well-known locations) to its OAuth metadata."""
    facts = OAuthFacts()
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
    candidates = [u for u in (resource_metadata, prm_url(endpoint)) if u]
    candidates.append(f"{origin}/.well-known/oauth-protected-resource")
    issuers: list[str] = []
    for url in dict.fromkeys(candidates):
        body = await _get(http, url, timeout)
        parsed = parse_resource_metadata(endpoint, body) if body is not None else None
        if parsed is not None:
            facts.resource, issuers, facts.scopes = parsed
            facts.resource_metadata_url = url
            break
    # Servers of the 2025-03-26 revision publish no resource metadata: their origin is the issuer.
    for issuer in issuers or [origin]:
        for url in metadata_urls(issuer):
            body = await _get(http, url, timeout)
            data = parse_server_metadata(issuer, body) if body is not None else None
            if data is None:
                continue
            facts.issuer, facts.metadata_url = data["issuer"], url
            facts.authorization_endpoint = _url(data.get("authorization_endpoint"))
            facts.token_endpoint = _url(data.get("token_endpoint"))
            facts.registration_endpoint = _url(data.get("registration_endpoint"))
            facts.scopes = facts.scopes or _strings(data.get("scopes_supported"))
            cimd = data.get("client_id_metadata_document_supported")
            facts.client_id_metadata_document = cimd if isinstance(cimd, bool) else None
            return facts
    return facts
