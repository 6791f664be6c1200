"""Catalog records: what the catalog stores and plugins produce (integrations, tools)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    """Internal records use snake_case and are not documents."""

    model_config = ConfigDict(extra="forbid")


class IntegrationRecord(Record):
    """One catalog row. `config` is opaque to core and holds no secrets."""

    tenant: str
    slug: str
    kind: str
    name: str
    description: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    can_remove: bool = True
    can_refresh: bool = False
    spec_hash: str | None = None
    config_revised_at: int | None = None
    """Epoch ms of the last config change that affects tools."""
    resource: str | None = None
    """The manifest that declares it: `<metadata.name>`; the claim on the slug."""
    manifest_hash: str | None = None
    """Content hash of the declaring manifest's spec, for no-op detection."""


class ToolDefinition(Record):
    """One callable operation."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] = Field(default_factory=dict)
    binding: dict[str, Any] = Field(default_factory=dict)
    """Plugin-specific invocation data (method, path, servers...)."""


class PluginCondition(Record):
    """A condition a plugin reports (Reachable, AuthRequired, ToolsDiscovered...)."""

    type: str
    status: str
    """True, False or Unknown."""
    reason: str
    message: str = ""


class ToolSet(Record):
    """Tools plus the shared `$defs` their schemas refer to."""

    tools: list[ToolDefinition] = Field(default_factory=list)
    definitions: dict[str, Any] = Field(default_factory=dict)
    incomplete: bool = False
    """True when discovery failed: the caller keeps the last good tools."""
    unchanged: bool = False
    """True when the source is the one already stored (same specHash, or a 304 to a conditional
    GET): nothing was recompiled, the stored tools stand and `tools` is empty."""
    conditions: list[PluginCondition] = Field(default_factory=list)
    """Why discovery was incomplete (e.g. `ToolsDiscovered=False`, reason `IntrospectionFailed`)."""


class Registration(Record):
    """What a plugin's `register` returns. `toolset.incomplete` means discovery failed: the stored
    tools are kept and marked stale instead of being replaced."""

    record: IntegrationRecord
    toolset: ToolSet = Field(default_factory=ToolSet)
    conditions: list[PluginCondition] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    """Facts for `status.details` (version, title, operation count...)."""
    display_url: str | None = None
    warnings: list[str] = Field(default_factory=list)


class StaticIntegration(Record):
    """A built-in catalog entry with no database row (e.g. `switchboard`)."""

    slug: str
    name: str
    description: str
    kind: str = "built-in"
    can_remove: bool = False
    can_refresh: bool = False
    tools: list[ToolDefinition] = Field(default_factory=list)


class StoredTool(Record):
    """A tool row as the catalog reads it back."""

    tenant: str
    integration: str
    owner: str = ""
    subject: str = ""
    connection: str = ""
    tool: ToolDefinition
