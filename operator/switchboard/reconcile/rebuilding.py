"""Rebuilding stale connections in the background: every ready connection whose tools predate its
integration's `config_revised_at`, or whose last attempt failed, is materialized again with bounded
concurrency and jitter. Reads never wait for this (gap 9: the reference rebuilds inline, in
sequence, on every tool list). File mode runs it at the end of a run; the operator on a timer."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from switchboard.catalog.connections import (
    credentials_from_reference,
    describe_methods,
    missing_message,
    resolve_credentials,
    select_method,
    variables_for,
)
from switchboard.catalog.ports import ConnectionWrite, CredentialProviders
from switchboard.errors import CredentialsMissingError, PermanentError, SwitchboardError
from switchboard.models.connection import ConnectionKey, ConnectionRecord
from switchboard.models.integration import ToolsSummary
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.registry import PluginRegistry
from switchboard.reconcile.connections import ConnectionStores
from switchboard.reconcile.lookups import CachedIntegrations
from switchboard.reconcile.syncing import epoch_ms, sync_tools

BACKOFF_BASE_MS = 30_000
BACKOFF_CAP_MS = 3_600_000
"""A connection whose rebuild keeps failing is retried after 30 s, 60 s, ... at most hourly."""

log = logging.getLogger(__name__)


@dataclass
class RebuildResult:
    """What happened to one connection; `resource` lets the operator re-queue its object."""

    key: ConnectionKey
    resource: str | None
    ok: bool
    reason: str = ""
    tools: ToolsSummary | None = None


@dataclass
class RebuildReport:
    results: list[RebuildResult] = field(default_factory=list)
    deferred: int = 0
    """Stale connections left for later by the failure backoff."""

    @property
    def rebuilt(self) -> int:
        return sum(1 for r in self.results if r.ok)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if not r.ok)


def backoff_due(row: ConnectionRecord, now_ms: int) -> bool:
    """A row with failures waits `30 s * 2^(n-1)` (capped) after its last write."""
    if row.consecutive_failures <= 0 or row.updated_at is None:
        return True
    wait: int = min(BACKOFF_BASE_MS * 2 ** (row.consecutive_failures - 1), BACKOFF_CAP_MS)
    return now_ms >= row.updated_at + wait


async def _rebuild_one(
    row: ConnectionRecord,
    *,
    stores: ConnectionStores,
    registry: PluginRegistry,
    ctx: PluginContext,
    credentials_provider: CredentialProviders,
    now: datetime,
) -> tuple[RebuildResult, ConnectionWrite | None]:
    key = row.key
    integration = stores.integrations.get(key.tenant, key.integration)
    if integration is None:  # removed meanwhile: the removal took the row and its tools
        return RebuildResult(key, row.resource, ok=False, reason="IntegrationMissing"), None
    try:
        plugin = registry.get(integration.kind)
        method = select_method(
            describe_methods(integration, registry), row.template, integration=key.integration
        )
        credentials = credentials_from_reference(row.provider, row.item_ids)
        resolved = await resolve_credentials(
            credentials_provider, key.tenant, credentials, variables_for(method)
        )
        if resolved.missing:
            raise CredentialsMissingError(missing_message(resolved.missing))
    except SwitchboardError as exc:
        write = None
        if isinstance(exc, PermanentError):
            # The reconcile of the object reports it in full; the row stops listing tools.
            record = row.model_copy(update={"ready": False, "reason": exc.reason})
            write = ConnectionWrite(record=record)
        return RebuildResult(key, row.resource, ok=False, reason=exc.reason), write
    sync = await sync_tools(
        plugin,
        integration,
        key,
        row.template,
        resolved.values,
        ctx,
        stored=row,
        shared_names=stores.integrations.tool_names(key.tenant, key.integration),
        now=now,
    )
    record = row.model_copy(
        update={
            "tools_synced_at": sync.synced_at,
            "synced_revision": sync.revision,
            "tool_count": sync.summary.count if sync.summary else 0,
            "tools_digest": sync.summary.digest if sync.summary else None,
            "stale": sync.failure is not None,
            "consecutive_failures": sync.failures,
            "reason": sync.failure.reason if sync.failure else "",
        }
    )
    result = RebuildResult(
        key,
        row.resource,
        ok=sync.failure is None,
        reason=sync.failure.reason if sync.failure else "",
        tools=sync.summary,
    )
    return result, ConnectionWrite(record=record, toolset=sync.toolset)


async def rebuild_stale(
    *,
    stores: ConnectionStores,
    registry: PluginRegistry,
    ctx: PluginContext,
    credentials_provider: CredentialProviders,
    now: datetime,
    tenant: str | None = None,
    concurrency: int = 8,
    jitter: float = 1.0,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> RebuildReport:
    """Rebuild every stale connection (due under the failure backoff). Each waits a random
    `0..jitter` seconds so many rebuilds do not hit one upstream at once, and at most
    `concurrency` run together. The writes land in one transaction at the end."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    # Hundreds of connections usually share a few integrations: read each once.
    stores = ConnectionStores(CachedIntegrations(stores.integrations), stores.connections)
    now_ms = epoch_ms(now)
    report = RebuildReport()
    candidates = []
    for row in stores.connections.stale_connections(tenant):
        if backoff_due(row, now_ms):
            candidates.append(row)
        else:
            report.deferred += 1
    if not candidates:
        return report
    gate = asyncio.Semaphore(concurrency)

    async def one(row: ConnectionRecord) -> tuple[RebuildResult, ConnectionWrite | None]:
        if jitter > 0:
            await sleep(rng.uniform(0, jitter))
        async with gate:
            return await _rebuild_one(
                row,
                stores=stores,
                registry=registry,
                ctx=ctx,
                credentials_provider=credentials_provider,
                now=now,
            )

    done = await asyncio.gather(*(one(row) for row in candidates))
    writes = [write for _, write in done if write is not None]
    stores.connections.apply_connections(writes)
    report.results = [result for result, _ in done]
    log.info(
        "rebuilt %d stale connections (%d failed, %d deferred)",
        report.rebuilt,
        report.failed,
        report.deferred,
    )
    return report
