"""The storage interfaces the catalog and reconcile layers use; `storage/` implements them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from switchboard.models.records import IntegrationRecord, StoredTool, ToolSet


@dataclass
class IntegrationWrite:
    """Upsert one integration; `toolset` None keeps the stored tools."""

    record: IntegrationRecord
    toolset: ToolSet | None = None


@dataclass(frozen=True)
class FileState:
    """File mode: a manifest file's digest as last written and what it declared."""

    root: str
    path: str
    digest: str
    state: dict[str, Any]


@dataclass
class WriteBatch:
    """Everything one reconcile run writes, applied in one transaction."""

    integrations: list[IntegrationWrite] = field(default_factory=list)
    removals: list[tuple[str, str]] = field(default_factory=list)
    """(tenant, slug) to remove with their connections, tools and definitions."""
    files: list[FileState] = field(default_factory=list)
    file_removals: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.integrations or self.removals or self.files or self.file_removals)


class CatalogStore(Protocol):
    """The catalog mirror."""

    def get(self, tenant: str, slug: str) -> IntegrationRecord | None: ...

    def list_integrations(self, tenant: str | None = None) -> list[IntegrationRecord]: ...

    def tool_names(self, tenant: str, slug: str) -> list[str]: ...

    def tools(
        self, tenant: str | None = None, integration: str | None = None
    ) -> list[StoredTool]: ...

    def apply(self, batch: WriteBatch) -> None:
        """All of it in one transaction, or none of it."""
        ...

    def update_text(
        self, tenant: str, slug: str, *, name: str | None, description: str | None
    ) -> IntegrationRecord | None: ...

    def file_states(self, root: str) -> dict[str, FileState]: ...
