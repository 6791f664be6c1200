"""Reconciling one `Connection`: check its integration and template, resolve its credentials (in
memory, for this call only), materialize its own tools through the plugin when they are not
current, and hand the result to the pure status computation (`connection_status`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from switchboard.catalog.connections import (
    connection_key,
    describe_methods,
    missing_message,
    resolve_credentials,
    select_method,
    variables_for,
)
from switchboard.catalog.ports import ConnectionStore, CredentialProviders, IntegrationLookup
from switchboard.errors import CredentialsMissingError, SwitchboardError
from switchboard.models.connection import Connection, ConnectionRecord
from switchboard.models.records import IntegrationRecord
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.registry import PluginRegistry
from switchboard.reconcile.connection_status import (
    ConnectionOutcome,
    compute_failure,
    compute_integration_missing,
    compute_ready,
    declared_record,
)
from switchboard.reconcile.syncing import epoch_ms, sync_tools


@dataclass
class ConnectionStores:
    """Where a connection reads its integration and its own row."""

    integrations: IntegrationLookup
    connections: ConnectionStore


def needs_sync(
    stored: ConnectionRecord | None,
    record: ConnectionRecord,
    integration: IntegrationRecord,
    *,
    revision_pending: bool,
    force: bool,
    shown_digest: str | None = None,
) -> bool:
    """Materialize again: first time, a failed last attempt, another template or credential
    reference, an integration revised since (`config_revised_at` vs the synced revision), or a
    status showing other tools than the row (rebuilt in the background since it was written)."""
    return (
        force
        or (shown_digest is not None and stored is not None and shown_digest != stored.tools_digest)
        or revision_pending
        or stored is None
        or stored.tools_synced_at is None
        or stored.stale
        or stored.template != record.template
        or stored.provider != record.provider
        or stored.item_ids != record.item_ids
        or stored.synced_revision != integration.config_revised_at
    )


async def reconcile_connection(
    resource: Connection,
    *,
    stores: ConnectionStores,
    registry: PluginRegistry,
    ctx: PluginContext,
    credentials_provider: CredentialProviders,
    now: datetime,
    revision_pending: bool = False,
    force: bool = False,
) -> ConnectionOutcome:
    """Reconcile one Connection. `revision_pending`: its integration's tools are rewritten in
    the same batch (file mode); `force`: materialize even when current (a rotated Secret)."""
    key = connection_key(resource)
    stored = stores.connections.get_connection(key)
    integration = stores.integrations.get(key.tenant, key.integration)
    if integration is None:
        return compute_integration_missing(resource, key, stored=stored, now=now)
    spec = resource.spec
    try:
        plugin = registry.get(integration.kind)
        methods = describe_methods(integration, registry)
        method = select_method(methods, spec.template, integration=key.integration)
        variables = variables_for(method)
        resolved = await resolve_credentials(
            credentials_provider, key.tenant, spec.credentials, variables
        )
    except SwitchboardError as exc:
        return compute_failure(resource, key, exc, stored=stored, now=now)
    if resolved.missing:
        error = CredentialsMissingError(missing_message(resolved.missing), field="spec.credentials")
        return compute_failure(
            resource, key, error, stored=stored, missing=resolved.missing, now=now
        )
    record = declared_record(resource, key, stored)
    sync = None
    shown = resource.status.tools.digest if resource.status and resource.status.tools else None
    if needs_sync(
        stored,
        record,
        integration,
        revision_pending=revision_pending,
        force=force,
        shown_digest=shown,
    ):
        values: Mapping[str, str] = resolved.values
        sync = await sync_tools(
            plugin,
            integration,
            key,
            spec.template,
            values,
            ctx,
            stored=stored,
            shared_names=stores.integrations.tool_names(key.tenant, key.integration),
            now=now,
        )
    return compute_ready(
        resource, key, stored=stored, sync=sync, revision_pending=revision_pending, now=now
    )


__all__ = [
    "ConnectionOutcome",
    "ConnectionStores",
    "compute_failure",
    "compute_integration_missing",
    "compute_ready",
    "epoch_ms",
    "reconcile_connection",
]
