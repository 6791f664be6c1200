"""The storage interfaces the catalog and reconcile layers use; `storage/` implements them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from switchboard.models.connection import ConnectionKey, ConnectionRecord, Credentials
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
class ConnectionWrite:
    """Upsert one connection row; `toolset` None keeps the connection's own tools."""

    record: ConnectionRecord
    toolset: ToolSet | None = None
    revision_from_batch: bool = False
    """The integration is rewritten in the same batch: the tools are synced against the
    `config_revised_at` that write stamps, not the one read before it."""


@dataclass
class WriteBatch:
    """Everything one reconcile run writes, applied in one transaction."""

    integrations: list[IntegrationWrite] = field(default_factory=list)
    removals: list[tuple[str, str]] = field(default_factory=list)
    """(tenant, slug) to remove with their connections, tools and definitions."""
    files: list[FileState] = field(default_factory=list)
    file_removals: list[tuple[str, str]] = field(default_factory=list)
    connections: list[ConnectionWrite] = field(default_factory=list)
    connection_removals: list[ConnectionKey] = field(default_factory=list)
    """Connections to remove with their own tools and definitions."""

    def __bool__(self) -> bool:
        return bool(
            self.integrations
            or self.removals
            or self.files
            or self.file_removals
            or self.connections
            or self.connection_removals
        )


class CatalogStore(Protocol):
    """The catalog mirror."""

    def get(self, tenant: str, slug: str) -> IntegrationRecord | None: ...

    def list_integrations(self, tenant: str | None = None) -> list[IntegrationRecord]: ...

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], IntegrationRecord]:
        """The stored records among `keys` ((tenant, slug) pairs)."""
        ...

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


class IntegrationLookup(Protocol):
    """What a connection reads about its integration (the store, or a run's pending writes)."""

    def get(self, tenant: str, slug: str) -> IntegrationRecord | None: ...

    def tool_names(self, tenant: str, slug: str) -> list[str]:
        """Names of the integration-scope tools (shared by every connection)."""
        ...


class ConnectionStore(Protocol):
    """Connection rows and their own tools."""

    def get_connection(self, key: ConnectionKey) -> ConnectionRecord | None: ...

    def list_connections(
        self, tenant: str | None = None, integration: str | None = None
    ) -> list[ConnectionRecord]: ...

    def stale_connections(self, tenant: str | None = None) -> list[ConnectionRecord]:
        """Ready connections whose tools predate their integration's `config_revised_at`, or
        whose last rebuild failed."""
        ...

    def apply_connections(
        self, writes: Sequence[ConnectionWrite], removals: Sequence[ConnectionKey] = ()
    ) -> None:
        """All of it in one transaction, or none of it."""
        ...


@dataclass(frozen=True)
class MissingCredential:
    """A template variable with no value, and where it was looked for. Never a value."""

    variable: str
    where: str

    def __str__(self) -> str:
        return f"{self.variable} ({self.where})"


@dataclass(frozen=True)
class Resolved:
    """Credential values for one call. They stay in memory: never logged, stored or shown."""

    values: Mapping[str, str] = field(repr=False)
    missing: tuple[MissingCredential, ...] = ()


class CredentialProvider(Protocol):
    """One connection's credential source (a Secret, environment variables, files)."""

    kind: str
    """`secret`, `env` or `files`."""

    async def resolve(self, variables: Sequence[str]) -> Resolved: ...


class CredentialProviders(Protocol):
    """The mode's providers: the provider for one connection's `spec.credentials`. Raises a
    PermanentError naming the field when the mode cannot serve that reference."""

    def __call__(self, tenant: str, credentials: Credentials) -> CredentialProvider: ...
