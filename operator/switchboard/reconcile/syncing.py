"""Materializing a connection's tools: one call to the plugin's `resolve_tools` with the
connection's credential values, and what the call yields (a fresh tool set, or the last good one
kept and marked stale). Shared by the reconcile path and the background rebuild."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import orjson

from switchboard.catalog.connections import redact, redact_error
from switchboard.errors import SwitchboardError, TemporaryError
from switchboard.models.connection import ConnectionKey, ConnectionRecord
from switchboard.models.integration import ToolsSummary
from switchboard.models.records import IntegrationRecord, ToolSet
from switchboard.plugins.contract import ConnectionRequest, Plugin, PluginContext
from switchboard.reconcile.integrations import SAMPLE_NAMES, tools_digest


@dataclass(frozen=True)
class Sync:
    """One materialization attempt. On failure the stored sync state is carried over."""

    toolset: ToolSet | None
    """The connection's own tools to store; None keeps the stored ones."""
    summary: ToolsSummary | None
    """Every tool at the address now (shared and own); None when never synced."""
    synced_at: int | None
    revision: int | None
    failures: int
    failure: SwitchboardError | None = None
    """Why the attempt failed, with any credential value taken out of the message."""


def epoch_ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def connection_summary(
    integration: IntegrationRecord, shared_names: Collection[str], own: ToolSet
) -> ToolsSummary:
    """Count, digest and sample names of the shared tools and the connection's own. The digest
    covers the spec (shared schemas), the shared names and every own tool in full."""
    names = sorted(set(shared_names) | {t.name for t in own.tools})
    digest = hashlib.sha256(orjson.dumps([integration.spec_hash, sorted(shared_names)]))
    digest.update(tools_digest(own).encode())
    return ToolsSummary(
        count=len(names), digest=f"sha256:{digest.hexdigest()}", sample_names=names[:SAMPLE_NAMES]
    )


def _incomplete(toolset: ToolSet, values: Collection[str]) -> SwitchboardError:
    failed = next((c for c in toolset.conditions if c.status != "True"), None)
    error = TemporaryError(redact(failed.message if failed else "", values) or "incomplete")
    error.reason = failed.reason if failed else "DiscoveryIncomplete"
    return error


async def sync_tools(
    plugin: Plugin,
    integration: IntegrationRecord,
    key: ConnectionKey,
    template: str,
    values: Mapping[str, str],
    ctx: PluginContext,
    *,
    stored: ConnectionRecord | None,
    shared_names: Collection[str],
    now: datetime,
) -> Sync:
    """Ask the plugin for the connection's own tools. A plugin error or an incomplete discovery
    keeps what is stored (never wipes a working catalog) and counts a failure."""
    request = ConnectionRequest(
        tenant=key.tenant,
        owner=key.owner,
        subject=key.subject,
        name=key.name,
        template=template,
        values=values,
    )
    failure: SwitchboardError | None = None
    try:
        toolset = await plugin.resolve_tools(integration, request, ctx)
    except SwitchboardError as exc:
        # A plugin may quote what it sent or received; the message must not carry a value.
        failure = redact_error(exc, values.values())
    else:
        if toolset.incomplete:
            failure = _incomplete(toolset, list(values.values()))
    if failure is None:
        return Sync(
            toolset=toolset,
            summary=connection_summary(integration, shared_names, toolset),
            synced_at=epoch_ms(now),
            revision=integration.config_revised_at,
            failures=0,
        )
    last = None
    if stored is not None and stored.tools_synced_at is not None:
        last = ToolsSummary(count=stored.tool_count, digest=stored.tools_digest)
    return Sync(
        toolset=None,
        summary=last,
        synced_at=stored.tools_synced_at if stored else None,
        revision=stored.synced_revision if stored else None,
        failures=(stored.consecutive_failures if stored else 0) + 1,
        failure=failure,
    )
