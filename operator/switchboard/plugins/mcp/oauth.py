"""OAuth discovery for an MCP endpoint: the server's own pointer (a `WWW-Authenticate`
`resource_metadata`), then RFC 9728's well-known locations, then the authorization server's
RFC 8414 or OpenID Connect metadata. The parsing and fetching are shared (`plugins.oauthmeta`)."""

from __future__ import annotations

from switchboard.plugins.contract import HttpClient
from switchboard.plugins.mcp.shapes import prm_url
from switchboard.plugins.oauthmeta import PRM_PATH, MetadataFetcher, OAuthFacts, discover, origin

__all__ = ["OAuthFacts", "discover_oauth"]


async def discover_oauth(
    http: HttpClient, endpoint: str, *, resource_metadata: str | None, timeout: float
) -> OAuthFacts:
    """Follow the server's pointer (or the well-known locations) to its OAuth metadata.
    Servers of the 2025-03-26 revision publish no resource metadata: their origin is the issuer."""
    fetcher = MetadataFetcher(http, timeout=timeout)
    base = origin(endpoint)
    try:
        return await discover(
            fetcher,
            endpoint,
            resource_metadata_urls=[resource_metadata, prm_url(endpoint), f"{base}{PRM_PATH}"],
            fallback_issuer=base,
        )
    finally:
        await fetcher.close()
