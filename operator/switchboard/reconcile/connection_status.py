"""Status for one Connection, computed without I/O: what `reconcile_connection` decided becomes
conditions, the tool summary and the row to write; the same inputs give the same bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from switchboard.catalog.connections import credential_reference
from switchboard.catalog.ports import ConnectionStore, ConnectionWrite, MissingCredential
from switchboard.errors import IntegrationMissingError, PermanentError, SwitchboardError
from switchboard.models.conditions import (
    Condition,
    Event,
    is_true,
    now_rfc3339,
    transition,
)
from switchboard.models.connection import (
    Connection,
    ConnectionKey,
    ConnectionRecord,
    ConnectionStatus,
)
from switchboard.models.integration import ToolsSummary
from switchboard.reconcile.syncing import Sync

Action = Literal["create", "update", "unchanged", "error"]
WAITING = {"CredentialsMissing", "IntegrationMissing"}
"""Failures that clear by themselves when something else appears: not Stalled."""


@dataclass
class ConnectionOutcome:
    """What one reconcile decided: the status to write and the mirror writes (if any)."""

    resource: str
    tenant: str
    key: ConnectionKey
    action: Action
    status: ConnectionStatus
    write: ConnectionWrite | None = None
    removal: ConnectionKey | None = None
    """The row (and its own tools) to delete: its integration is gone."""
    error: SwitchboardError | None = None
    events: list[tuple[str, str, str]] = field(default_factory=list)
    """(type, reason, message) for condition transitions: Normal or Warning."""

    @property
    def ready(self) -> bool:
        return is_true(self.status.conditions, "Ready")

    def apply(self, store: ConnectionStore) -> None:
        """Cluster mode: write this outcome on its own, in one transaction."""
        if self.write is not None or self.removal is not None:
            store.apply_connections(
                [self.write] if self.write else [], [self.removal] if self.removal else []
            )


def _stamp(ms: int | None) -> str | None:
    return None if ms is None else now_rfc3339(datetime.fromtimestamp(ms / 1000, UTC))


def _conditions(
    previous: list[Condition], updates: list[Condition], now: datetime
) -> tuple[list[Condition], list[Event]]:
    return transition(previous, updates, now=now, warn_when_true=frozenset({"Stale"}))


def _condition(type_: str, status: bool, reason: str, message: str, gen: int | None) -> Condition:
    return Condition(
        type=type_,
        status="True" if status else "False",
        reason=reason,
        message=message,
        observed_generation=gen,
    )


def _settle(
    resource: Connection,
    key: ConnectionKey,
    status: ConnectionStatus,
    *,
    stored: ConnectionRecord | None,
    write: ConnectionWrite | None,
    removal: ConnectionKey | None = None,
    error: SwitchboardError | None,
    events: list[tuple[str, str, str]],
) -> ConnectionOutcome:
    """The outcome, with the previous status kept byte for byte when only times would change
    (a second run over the same inputs writes nothing)."""
    previous = resource.status
    volatile = {"last_attempt_time", "last_success_time"}
    if error is not None and isinstance(error, PermanentError):
        volatile.add("consecutive_failures")  # the same bad input is not a new failure
    if (
        write is not None
        and write.toolset is None
        and stored is not None
        and write.record.model_dump(exclude={"updated_at"})
        == stored.model_dump(exclude={"updated_at"})
    ):
        write = None
    unchanged = (
        previous is not None
        and write is None
        and removal is None
        and previous.model_dump(exclude=volatile) == status.model_dump(exclude=volatile)
    )
    if unchanged:
        assert previous is not None
        status = previous
    if error is not None:
        action: Action = "error"
    elif stored is None:
        action = "create"
    else:
        action = "unchanged" if unchanged else "update"
    return ConnectionOutcome(
        resource=resource.metadata.name,
        tenant=key.tenant,
        key=key,
        action=action,
        status=status,
        write=write,
        removal=removal,
        error=error,
        events=[] if unchanged else events,
    )


def declared_record(
    resource: Connection, key: ConnectionKey, stored: ConnectionRecord | None
) -> ConnectionRecord:
    """The row the manifest declares, carrying over the stored tool sync state."""
    provider, item_ids = credential_reference(resource.spec.credentials)
    carried = (
        stored.model_dump(
            include={
                "tools_synced_at",
                "synced_revision",
                "tool_count",
                "tools_digest",
                "stale",
                "consecutive_failures",
            }
        )
        if stored is not None
        else {}
    )
    return ConnectionRecord(
        tenant=key.tenant,
        owner=key.owner,
        subject=key.subject,
        integration=key.integration,
        name=key.name,
        template=resource.spec.template,
        provider=provider,
        item_ids=item_ids,
        description=resource.spec.description,
        resource=resource.metadata.name,
        **carried,
    )


def _base_status(resource: Connection, key: ConnectionKey, now: datetime) -> ConnectionStatus:
    previous = resource.status or ConnectionStatus()
    return previous.model_copy(
        update={
            "observed_generation": resource.metadata.generation,
            "address": key.address,
            "name": key.name,
            "template": resource.spec.template,
            "last_attempt_time": now_rfc3339(now),
        }
    )


def compute_integration_missing(
    resource: Connection, key: ConnectionKey, *, stored: ConnectionRecord | None, now: datetime
) -> ConnectionOutcome:
    """The integration is gone (or not there yet): Ready=False, the row and its tools removed."""
    error = IntegrationMissingError(key.integration)
    gen = resource.metadata.generation
    base = _base_status(resource, key, now)
    conditions, events = _conditions(
        base.conditions,
        [
            _condition("Ready", False, error.reason, str(error), gen),
            _condition("Stalled", False, error.reason, "", gen),
        ],
        now,
    )
    status = base.model_copy(
        update={"conditions": conditions, "tools": None, "tools_synced_at": None}
    )
    return _settle(
        resource,
        key,
        status,
        stored=stored,
        write=None,
        removal=key if stored is not None else None,
        error=error,
        events=events,
    )


def compute_failure(
    resource: Connection,
    key: ConnectionKey,
    error: SwitchboardError,
    *,
    stored: ConnectionRecord | None,
    missing: tuple[MissingCredential, ...] = (),
    now: datetime,
) -> ConnectionOutcome:
    """Bad input or missing credentials: Ready=False; the row says so and keeps its last tools.
    An outage changes no row."""
    gen = resource.metadata.generation
    base = _base_status(resource, key, now)
    permanent = isinstance(error, PermanentError)
    updates = [
        _condition("Ready", False, error.reason, str(error), gen),
        _condition(
            "Stalled",
            permanent and error.reason not in WAITING,
            error.reason,
            str(error) if permanent and error.reason not in WAITING else "",
            gen,
        ),
    ]
    if missing:
        updates.append(_condition("CredentialsResolved", False, error.reason, str(error), gen))
    conditions, events = _conditions(base.conditions, updates, now)
    status = base.model_copy(
        update={
            "conditions": conditions,
            "missing_credentials": [str(m) for m in missing] or None,
            "consecutive_failures": (base.consecutive_failures or 0) + 1,
        }
    )
    write = None
    if permanent:
        record = declared_record(resource, key, stored).model_copy(
            update={"ready": False, "reason": error.reason}
        )
        write = ConnectionWrite(record=record)
    return _settle(resource, key, status, stored=stored, write=write, error=error, events=events)


def compute_ready(
    resource: Connection,
    key: ConnectionKey,
    *,
    stored: ConnectionRecord | None,
    sync: Sync | None,
    revision_pending: bool = False,
    now: datetime,
) -> ConnectionOutcome:
    """Credentials resolved. `sync` is the materialization attempt, None when the stored tools
    are current. A failed attempt keeps the last good tools and marks them stale."""
    gen = resource.metadata.generation
    base = _base_status(resource, key, now)
    record = declared_record(resource, key, stored)
    toolset = None
    if sync is not None:
        record = record.model_copy(
            update={
                "tools_synced_at": sync.synced_at,
                "synced_revision": sync.revision,
                "tool_count": sync.summary.count if sync.summary else 0,
                "tools_digest": sync.summary.digest if sync.summary else None,
                "stale": sync.failure is not None,
                "consecutive_failures": sync.failures,
            }
        )
        toolset = sync.toolset
    failure = sync.failure if sync is not None else None
    synced = record.tools_synced_at is not None
    record = record.model_copy(update={"ready": True, "reason": failure.reason if failure else ""})
    summary = None
    if synced:
        previous = base.tools
        fresh = sync.summary if sync is not None and sync.failure is None else None
        summary = fresh or ToolsSummary(
            count=record.tool_count,
            digest=record.tools_digest,
            sample_names=(
                previous.sample_names
                if previous is not None and previous.digest == record.tools_digest
                else None
            ),
        )
    count = summary.count if summary else 0
    message = f"{count} tools at {key.address}"
    if failure is not None:
        message = (
            f"tool discovery failed; the last good tools are kept: {failure}"
            if synced
            else f"tool discovery failed: {failure}"
        )
    ready = synced
    conditions, events = _conditions(
        base.conditions,
        [
            _condition("CredentialsResolved", True, "Resolved", "", gen),
            _condition(
                "ToolsSynced",
                failure is None,
                failure.reason if failure else "Synced",
                str(failure) if failure else f"{count} tools",
                gen,
            ),
            _condition(
                "Stale",
                failure is not None,
                failure.reason if failure else "Fresh",
                message if failure else "",
                gen,
            ),
            _condition(
                "Ready",
                ready,
                "Connected" if ready else (failure.reason if failure else "NotSynced"),
                message,
                gen,
            ),
            _condition("Stalled", False, "Connected" if ready else "Retrying", "", gen),
        ],
        now,
    )
    stamp = now_rfc3339(now)
    status = base.model_copy(
        update={
            "conditions": conditions,
            "tools": summary,
            "tools_synced_at": _stamp(record.tools_synced_at),
            "missing_credentials": None,
            "last_success_time": stamp if failure is None else base.last_success_time,
            "consecutive_failures": record.consecutive_failures,
        }
    )
    write = ConnectionWrite(
        record=record,
        toolset=toolset,
        revision_from_batch=revision_pending and toolset is not None,
    )
    return _settle(
        resource,
        key,
        status,
        stored=stored,
        write=write,
        error=None if ready else failure,
        events=events,
    )
