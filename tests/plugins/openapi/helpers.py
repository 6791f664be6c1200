"""Helpers for the OpenAPI plugin tests: a plugin context on a temporary repository root whose
outbound client may reach loopback, and registration of a document given as data or bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from switchboard.models.records import IntegrationRecord, Registration
from switchboard.plugins.contract import PluginContext, RegistrationRequest
from switchboard.plugins.openapi import plugin
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy

LOOPBACK = ["127.0.0.0/8", "::1"]
MAX_BYTES = 64 * 1024 * 1024


def make_ctx(
    root: Path, client: OutboundClient | None = None, limit: int = MAX_BYTES
) -> PluginContext:
    http = client or OutboundClient(OutboundPolicy.from_allow(LOOPBACK, deadline=5.0))
    reader = SourceReader(http=http, max_bytes=limit, root=root)
    return PluginContext(documents=reader, http=http, max_spec_bytes=limit)


def openapi(paths: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """A minimal OpenAPI 3.0 document."""
    return {"openapi": "3.0.3", "info": {"title": "Test API"}, "paths": paths or {}, **top}


async def register(
    root: Path,
    document: dict[str, Any] | bytes,
    *,
    name: str = "spec.json",
    config: dict[str, Any] | None = None,
    previous: IntegrationRecord | None = None,
    ctx: PluginContext | None = None,
) -> Registration:
    """Write `document` to `root/name` and register it as a file source."""
    body = document if isinstance(document, bytes) else orjson.dumps(document)
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(body)
    request = RegistrationRequest(
        tenant="t",
        slug="api",
        config={"source": {"file": name}, **(config or {})},
        previous=previous,
    )
    return await plugin.register(request, ctx or make_ctx(root))


def templates(registration: Registration) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = registration.record.config["authenticationTemplate"]
    return found


def tool(registration: Registration, name: str) -> Any:
    return next(t for t in registration.toolset.tools if t.name == name)
