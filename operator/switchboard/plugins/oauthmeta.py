"""OAuth metadata shared by the plugins that discover it: RFC 9728 protected-resource documents and
RFC 8414 / OpenID Connect authorization-server documents, parsed by pure functions and fetched
through the outbound client. What is recorded is what the documents said; nothing is assumed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from switchboard.errors import SwitchboardError, TemporaryError
from switchboard.plugins.contract import HttpClient

METADATA_BYTES = 256 * 1024
"""Metadata documents are small; a larger answer is not one."""
PRM_PATH = "/.well-known/oauth-protected-resource"


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
    """The resource's `scopes_supported`, else the authorization server's."""
    server_scopes: list[str] = field(default_factory=list)
    """The authorization server's own `scopes_supported`."""
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


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def resource_metadata_url(resource: str) -> str:
    """`{origin}/.well-known/oauth-protected-resource{path}` (RFC 9728 §3.1)."""
    return f"{origin(resource)}{PRM_PATH}{urlsplit(resource).path.rstrip('/')}"


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
    base = origin(issuer)
    path = urlsplit(issuer).path.rstrip("/")
    urls = [
        f"{base}/.well-known/oauth-authorization-server{path}",
        f"{base}/.well-known/openid-configuration{path}",
    ]
    if path:
        urls.append(f"{base}{path}/.well-known/openid-configuration")
    return urls


def parse_server_metadata(issuer: str, body: bytes) -> dict[str, Any] | None:
    """An RFC 8414 / OpenID document whose `issuer` is the one asked for (RFC 8414 §3.3)."""
    data = _load(body)
    if data is None or not isinstance(data.get("issuer"), str):
        return None
    if data["issuer"].rstrip("/") != issuer.rstrip("/"):
        return None
    return data


def record_server_metadata(facts: OAuthFacts, url: str, data: dict[str, Any]) -> None:
    """Fill `facts` from an authorization server's metadata document read at `url`."""
    facts.issuer, facts.metadata_url = data["issuer"], url
    facts.authorization_endpoint = _url(data.get("authorization_endpoint"))
    facts.token_endpoint = _url(data.get("token_endpoint"))
    facts.registration_endpoint = _url(data.get("registration_endpoint"))
    facts.server_scopes = _strings(data.get("scopes_supported"))
    facts.scopes = facts.scopes or facts.server_scopes
    cimd = data.get("client_id_metadata_document_supported")
    facts.client_id_metadata_document = cimd if isinstance(cimd, bool) else None


class MetadataFetcher:
    """GETs metadata documents through the outbound client: each URL once however many callers
    ask for it (probes of one host share its well-known documents), with what each answered kept
    as evidence. `close()` cancels what is still under way."""

    def __init__(self, http: HttpClient, *, timeout: float) -> None:
        self.http = http
        self.timeout = timeout
        self.answers: dict[str, str] = {}
        """URL → `HTTP <status>` or the error class that stood for the answer."""
        self.transient = False
        """Some URL could not be reached, or its server failed (5xx, 429), as opposed to
        answering that it has no metadata."""
        self._tasks: dict[str, asyncio.Task[bytes | None]] = {}

    async def get(self, url: str) -> bytes | None:
        task = self._tasks.get(url)
        if task is None:
            task = asyncio.create_task(self._fetch(url))
            self._tasks[url] = task
        # One caller giving up (its own deadline) must not cancel the answer others wait for.
        return await asyncio.shield(task)

    async def _fetch(self, url: str) -> bytes | None:
        try:
            response = await self.http.request(
                "GET",
                url,
                headers={"accept": "application/json"},
                max_bytes=METADATA_BYTES,
                timeout=self.timeout,
            )
        except SwitchboardError as exc:  # unreachable or refused: this URL says nothing
            self.answers[url] = type(exc).__name__
            self.transient = self.transient or isinstance(exc, TemporaryError)
            return None
        self.answers[url] = f"HTTP {response.status}"
        if response.status == 429 or response.status >= 500:  # busy or failing, not "none here"
            self.transient = True
        return response.body if 200 <= response.status < 300 else None

    async def close(self) -> None:
        pending = [task for task in self._tasks.values() if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for url, task in self._tasks.items():
            if task.cancelled():
                self.answers.setdefault(url, "no answer in time")


async def discover(
    fetcher: MetadataFetcher,
    resource: str,
    *,
    resource_metadata_urls: Sequence[str | None],
    fallback_issuer: str,
) -> OAuthFacts:
    """The first RFC 9728 document about `resource` among `resource_metadata_urls`, then the
    metadata of the authorization servers it names (of `fallback_issuer` when none was found)."""
    facts = OAuthFacts()
    issuers: list[str] = []
    for url in dict.fromkeys(u for u in resource_metadata_urls if u):
        body = await fetcher.get(url)
        parsed = parse_resource_metadata(resource, body) if body is not None else None
        if parsed is not None:
            facts.resource, issuers, facts.scopes = parsed
            facts.resource_metadata_url = url
            break
    for issuer in issuers or [fallback_issuer]:
        for url in metadata_urls(issuer):
            body = await fetcher.get(url)
            data = parse_server_metadata(issuer, body) if body is not None else None
            if data is not None:
                record_server_metadata(facts, url, data)
                return facts
    return facts
