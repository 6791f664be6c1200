"""Reconciling one `Integration`: read what is stored, register through the plugin, compute status
and the mirror write. `compute_*` functions are pure; `reconcile_integration` does the I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import orjson

from switchboard.catalog.ports import CatalogStore, IntegrationWrite
from switchboard.catalog.registering import detect_resource, register, resolve_slug
from switchboard.errors import IntegrationAlreadyExistsError, PermanentError, SwitchboardError
from switchboard.models.conditions import Condition, is_true, now_rfc3339, transition
from switchboard.models.integration import Integration, IntegrationStatus, ToolsSummary
from switchboard.models.records import IntegrationRecord, Registration, ToolSet
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.registry import PluginRegistry
from switchboard.reconcile.detections import mark
from switchboard.reconcile.durations import parse_duration

Action = Literal["create", "update", "unchanged", "error"]
SAMPLE_NAMES = 5


@dataclass
class IntegrationOutcome:
    """What one reconcile decided: the status to write, and the mirror write (if any)."""

    resource: str
    tenant: str
    slug: str | None
    action: Action
    status: IntegrationStatus
    write: IntegrationWrite | None = None
    error: SwitchboardError | None = None
    events: list[tuple[str, str, str]] = field(default_factory=list)
    """(type, reason, message) for condition transitions: Normal or Warning."""

    @property
    def ready(self) -> bool:
        return is_true(self.status.conditions, "Ready")


def fingerprint(resource: Integration, *dependencies: bytes) -> str:
    """A content hash of the spec and of what it reads (spec files): unchanged means no-op."""
    body = orjson.dumps(
        resource.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
        option=orjson.OPT_SORT_KEYS,
    )
    digest = hashlib.sha256(body)
    for dependency in dependencies:
        digest.update(b"\0")
        digest.update(dependency)
    return digest.hexdigest()


def tools_digest(toolset: ToolSet) -> str:
    """sha256 over the sorted tools (name, description, schemas, annotations) and definitions."""
    digest = hashlib.sha256()
    for tool in sorted(toolset.tools, key=lambda t: t.name):
        digest.update(
            orjson.dumps(
                [
                    tool.name,
                    tool.description,
                    tool.input_schema,
                    tool.output_schema,
                    tool.annotations,
                ],
                option=orjson.OPT_SORT_KEYS,
            )
        )
    digest.update(orjson.dumps(toolset.definitions, option=orjson.OPT_SORT_KEYS))
    return f"sha256:{digest.hexdigest()}"


def compute_success(
    resource: Integration,
    registration: Registration,
    *,
    stored: IntegrationRecord | None,
    previous_tool_names: list[str] | None,
    auth_methods: list,  # type: ignore[type-arg]
    manifest_hash: str,
    now: datetime,
) -> IntegrationOutcome:
    """Status and mirror write after a successful registration (pure)."""
    record = registration.record
    record.manifest_hash = manifest_hash
    previous = resource.status or IntegrationStatus()
    generation = resource.metadata.generation
    toolset = registration.toolset
    incomplete = toolset.incomplete
    if incomplete and stored is not None:
        # Discovery failed: keep what is stored (tools and hash), never wipe a working catalog.
        record.spec_hash = stored.spec_hash
    spec_changed = not incomplete and (stored is None or stored.spec_hash != record.spec_hash)
    names = sorted(t.name for t in toolset.tools)
    added = removed = None
    if stored is not None and spec_changed and previous_tool_names is not None:
        added = sorted(set(names) - set(previous_tool_names))
        removed = sorted(set(previous_tool_names) - set(names))
    elif not spec_changed:
        added, removed = previous.added_tools, previous.removed_tools
    if not spec_changed and stored is not None:
        record.config_revised_at = stored.config_revised_at
    # The plugin reused what is stored (same specHash, or a 304): the last summary stands.
    reused = toolset.unchanged and stored is not None and previous.tools is not None
    count = previous.tools.count if reused and previous.tools is not None else len(names)
    message = f"{count} tools from {registration.details.get('title') or record.name}"
    stale = incomplete and stored is not None
    if stale:
        message = "discovery failed; the last good tools are kept"
    plugin_conditions = [
        Condition(
            type=c.type,
            status=c.status,
            reason=c.reason,
            message=c.message,
            observed_generation=generation,
        )
        for c in registration.conditions
    ]
    conditions, events = transition(
        previous.conditions,
        [
            *plugin_conditions,
            Condition(
                type="Stale",
                status="True" if stale else "False",
                reason="DiscoveryFailed" if stale else "Fresh",
                message=message if stale else "",
                observed_generation=generation,
            ),
            Condition(
                type="Ready",
                status="True",
                reason="Registered",
                message=message,
                observed_generation=generation,
            ),
            Condition(
                type="Registered",
                status="True",
                reason="Registered",
                message="registered through the plugin",
                observed_generation=generation,
            ),
            Condition(
                type="Mirrored",
                status="True",
                reason="Mirrored",
                message="written to the catalog database",
                observed_generation=generation,
            ),
            Condition(
                type="Stalled",
                status="False",
                reason="Registered",
                message="",
                observed_generation=generation,
            ),
        ],
        now=now,
    )
    if spec_changed and stored is not None and (added or removed):
        events.append(
            (
                "Normal",
                "SpecChanged",
                f"{len(added or [])} tools added, {len(removed or [])} removed",
            )
        )
    stamp = now_rfc3339(now)
    status = IntegrationStatus(
        observed_generation=generation,
        slug=record.slug,
        kind=record.kind,
        name=record.name,
        can_remove=record.can_remove,
        can_refresh=record.can_refresh,
        auth_methods=auth_methods,
        display_url=registration.display_url,
        spec_hash=record.spec_hash,
        tools=(
            previous.tools
            if stale or reused
            else ToolsSummary(
                count=len(names), digest=tools_digest(toolset), sample_names=names[:SAMPLE_NAMES]
            )
        ),
        added_tools=added,
        removed_tools=removed,
        detection=previous.detection,
        details=registration.details or None,
        conditions=conditions,
        last_attempt_time=stamp,
        last_success_time=stamp,
        consecutive_failures=0,
        last_handled_refresh_at=previous.last_handled_refresh_at,
    )
    return IntegrationOutcome(
        resource=resource.metadata.name,
        tenant=resource.tenant,
        slug=record.slug,
        action="create" if stored is None else "update",
        status=status,
        # A re-registration that changed nothing stored writes nothing (no row churn).
        write=(
            None
            if stored is not None and not spec_changed and record == stored
            else IntegrationWrite(record=record, toolset=toolset if spec_changed else None)
        ),
        events=events,
    )


def compute_failure(
    resource: Integration, error: SwitchboardError, *, slug: str | None, now: datetime
) -> IntegrationOutcome:
    """Status after a failure (pure): what was learned before is kept, the mirror is untouched."""
    previous = resource.status or IntegrationStatus()
    generation = resource.metadata.generation
    permanent = isinstance(error, PermanentError)
    conditions, events = transition(
        previous.conditions,
        [
            Condition(
                type="Ready",
                status="False",
                reason=error.reason,
                message=str(error),
                observed_generation=generation,
            ),
            Condition(
                type="Stalled",
                status="True" if permanent else "False",
                reason=error.reason,
                message=str(error) if permanent else "",
                observed_generation=generation,
            ),
        ],
        now=now,
    )
    status = previous.model_copy(
        update={
            "observed_generation": generation,
            "conditions": conditions,
            "last_attempt_time": now_rfc3339(now),
            "consecutive_failures": (previous.consecutive_failures or 0) + 1,
        }
    )
    return IntegrationOutcome(
        resource=resource.metadata.name,
        tenant=resource.tenant,
        slug=slug,
        action="error",
        status=status,
        error=error,
        events=events,
    )


def refresh_due(resource: Integration, stored: IntegrationRecord, now: datetime) -> bool:
    """A URL-sourced spec is re-read when `spec.refresh.interval` has passed since last success."""
    refresh = resource.spec.refresh
    status = resource.status
    if refresh is None or refresh.interval is None or not stored.can_refresh or status is None:
        return False
    if not status.last_success_time:
        return True
    last = datetime.strptime(status.last_success_time, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=now.tzinfo
    )
    return now - last >= parse_duration(refresh.interval)


def is_unchanged(
    resource: Integration, stored: IntegrationRecord | None, manifest_hash: str
) -> bool:
    """Nothing to do: same manifest content, status current and Ready."""
    status = resource.status
    return (
        stored is not None
        and stored.manifest_hash == manifest_hash
        and stored.resource == resource.metadata.name
        and status is not None
        and status.observed_generation == resource.metadata.generation
        and is_true(status.conditions, "Ready")
    )


async def reconcile_integration(
    resource: Integration,
    *,
    store: CatalogStore,
    registry: PluginRegistry,
    ctx: PluginContext,
    now: datetime,
    manifest_hash: str,
    claimed_by: str | None = None,
    stored: IntegrationRecord | None = None,
    prefetched: bool = False,
    force: bool = False,
) -> IntegrationOutcome:
    """Reconcile one Integration. `claimed_by` names another manifest that owns the slug;
    `stored` is the mirror's row when the caller has already read it (`prefetched`)."""
    try:
        slug = resolve_slug(resource)
    except SwitchboardError as exc:
        return compute_failure(resource, exc, slug=None, now=now)
    if claimed_by is not None and claimed_by != resource.metadata.name:
        error = IntegrationAlreadyExistsError(slug, owner=claimed_by)
        return compute_failure(resource, error, slug=slug, now=now)
    if not prefetched:
        stored = store.get(resource.tenant, slug)
    if stored is not None and stored.resource not in (None, resource.metadata.name):
        error = IntegrationAlreadyExistsError(slug, owner=stored.resource)
        return compute_failure(resource, error, slug=slug, now=now)
    if (
        not force
        and stored is not None
        and is_unchanged(resource, stored, manifest_hash)
        and not refresh_due(resource, stored, now)
    ):
        assert resource.status is not None
        return IntegrationOutcome(
            resource=resource.metadata.name,
            tenant=resource.tenant,
            slug=slug,
            action="unchanged",
            status=resource.status,
        )
    detection = None
    try:
        detection = await detect_resource(resource, registry, ctx)
        registration = await register(resource, registry, ctx, previous=stored, detection=detection)
    except SwitchboardError as exc:
        failed = compute_failure(resource, exc, slug=slug, now=now)
        return mark(failed, resource, detection, error=exc, now=now)
    if registration.toolset.unchanged and (resource.status is None or not resource.status.tools):
        # Nothing to carry the tool summary over from (status lost): compile afresh.
        try:
            registration = await register(
                resource, registry, ctx, previous=None, detection=detection
            )
        except SwitchboardError as exc:
            failed = compute_failure(resource, exc, slug=slug, now=now)
            return mark(failed, resource, detection, error=exc, now=now)
    previous_names = None
    if stored is not None and (
        stored.spec_hash != registration.record.spec_hash or registration.toolset.incomplete
    ):
        previous_names = store.tool_names(resource.tenant, slug)
    plugin = registry.get(registration.record.kind)
    auth_methods = plugin.describe_auth_methods(registration.record.config)
    succeeded = compute_success(
        resource,
        registration,
        stored=stored,
        previous_tool_names=previous_names,
        auth_methods=auth_methods,
        manifest_hash=manifest_hash,
        now=now,
    )
    return mark(succeeded, resource, detection, error=None, now=now)
