"""Is there an MCP server behind a URL? A real discovery says `high`; so does a positive shape
probe (an auth-required MCP server included); the `mcp` token in the host or path says `low`.
All of it within the context's detection deadline; any failure means "not known", never an error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import anyio

from switchboard.models.detection import Confidence, DetectionResult
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.mcp.discovering import DiscoveryError, RemoteTarget, discover
from switchboard.plugins.mcp.naming import has_url_token, server_slug
from switchboard.plugins.mcp.probing import PROBE_TIMEOUT, probe_shape
from switchboard.plugins.mcp.wiring import factory_for

DISCOVERY_SHARE = 0.6
"""Of the detection deadline, the part a full discovery may take; the probe gets the rest."""


def _result(url: str, confidence: Confidence, evidence: dict[str, Any]) -> DetectionResult:
    host = urlsplit(url).hostname
    return DetectionResult(
        kind="mcp",
        confidence=confidence,
        endpoint=url,
        name=host or "mcp",
        slug=server_slug(endpoint=url),
        evidence=evidence,
    )


async def _evidence(url: str, ctx: PluginContext) -> tuple[bool, dict[str, Any]]:
    """(is MCP, what was seen): discovery first, then the shape probe."""
    budget = ctx.detect_deadline
    try:
        found = await discover(
            RemoteTarget(url=url), factory_for(ctx), deadline=budget * DISCOVERY_SHARE
        )
    except DiscoveryError as failure:
        seen: dict[str, Any] = {"discovery": failure.reason}
        if failure.reason in ("URLNotAllowed", "NoOutboundClient") or ctx.client_factory is None:
            return False, seen
        timeout = min(PROBE_TIMEOUT, budget * (1 - DISCOVERY_SHARE))
        shape = await probe_shape(ctx.client_factory, url, timeout=timeout)
        return shape.is_mcp, {**seen, **shape.evidence()}
    return True, {
        "probe": "discovery",
        "transport": found.transport,
        "toolCount": len(found.tools),
        **({"serverName": found.server_name} if found.server_name else {}),
    }


async def detect(url: str, ctx: PluginContext) -> DetectionResult | None:
    trimmed = url.strip()
    try:
        parts = urlsplit(trimmed)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    evidence: dict[str, Any] = {}
    with anyio.move_on_after(ctx.detect_deadline):
        is_mcp, evidence = await _evidence(trimmed, ctx)
        if is_mcp:
            return _result(trimmed, "high", evidence)
    if has_url_token(trimmed):
        return _result(trimmed, "low", {**evidence, "urlToken": "mcp"})
    return None
