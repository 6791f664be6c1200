"""The plugin contract: the hooks a plugin implements and the context core hands it.

A plugin is an object with an `id` and hooks. Plugins see core only through `PluginContext`:
documents are read, and URLs fetched, through interfaces whose implementations (with the
outbound-safety policy, the repository root, the Kubernetes client) the top of the program
wires in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from switchboard.models.auth import AuthMethodDescriptor
from switchboard.models.detection import DetectionResult
from switchboard.models.records import (
    IntegrationRecord,
    Registration,
    ToolDefinition,
    ToolSet,
)
from switchboard.models.sources import DocumentSource


@dataclass(frozen=True)
class HttpResponse:
    """A response read whole, within the size cap."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class HttpClient(Protocol):
    """Outbound HTTP under the safety policy (scheme, address, deadline, size, redirects)."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,
    ) -> HttpResponse: ...


@dataclass(frozen=True)
class Document:
    """A document's bytes and where they came from."""

    body: bytes
    url: str | None = None
    """Set for URL sources: relative references resolve against it."""
    path: str | None = None
    """Set for file sources: the repository-relative path."""
    etag: str | None = None
    not_modified: bool = False
    """A conditional read (`etag` given) answered 304: `body` is empty, the stored copy stands."""


class DocumentReader(Protocol):
    """Reads a `DocumentSource` (file, url, inline, configMapRef) within the size cap."""

    async def read(
        self, source: DocumentSource, *, field: str, etag: str | None = None
    ) -> Document:
        """With `etag`, a URL source is fetched with `If-None-Match` and a 304 answer gives a
        `Document` with `not_modified` set; other sources ignore it."""
        ...

    async def read_relative(self, base: Document, ref: str, *, field: str) -> Document:
        """A document referenced from `base` (an external `$ref`), under the same rules."""
        ...


@dataclass(frozen=True)
class RegistrationRequest:
    """What core asks a plugin to register."""

    tenant: str
    slug: str
    config: Mapping[str, Any]
    """The kind's spec sub-object in document (camelCase) form."""
    name: str | None = None
    description: str | None = None
    resource: str | None = None
    previous: IntegrationRecord | None = None
    """The stored record, when there is one (for change reports and ETags)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ClientFactory(Protocol):
    """Makes an `httpx.AsyncClient` whose every request (and redirect hop) passes the outbound
    policy; for SDKs that want a client of their own (the MCP SDK)."""

    def __call__(
        self,
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        auth: httpx.Auth | None = None,
    ) -> httpx.AsyncClient: ...


@dataclass
class PluginContext:
    """Everything a plugin may use. Built once per run by the top of the program."""

    documents: DocumentReader
    http: HttpClient
    client_factory: ClientFactory | None = None
    max_spec_bytes: int = 64 * 1024 * 1024
    allow_stdio: bool = False
    detect_deadline: float = 10.0
    clock: Callable[[], datetime] = field(default=_utcnow)


@dataclass(frozen=True)
class Preset:
    """An entry for a "popular integrations" list."""

    id: str
    name: str
    summary: str
    url: str | None = None


@dataclass(frozen=True)
class ConnectionRequest:
    """What `resolve_tools` receives about the connection (values only for this call)."""

    tenant: str
    owner: str
    subject: str
    name: str
    template: str
    values: Mapping[str, str] = field(default_factory=dict, repr=False)


@runtime_checkable
class Plugin(Protocol):
    """The hooks every plugin implements. `BasePlugin` supplies the optional ones."""

    id: str

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        """Read and compile the source; an idempotent upsert of the record follows."""
        ...

    def describe_auth_methods(self, config: Mapping[str, Any]) -> list[AuthMethodDescriptor]:
        """Pure; a malformed or foreign config gives `[]`."""
        ...

    def describe_display(self, config: Mapping[str, Any]) -> str | None:
        """A non-secret URL for display (favicons), or None."""
        ...

    async def detect(self, url: str, ctx: PluginContext) -> DetectionResult | None:
        """Whether the URL is this plugin's kind; None when it is not."""
        ...

    async def resolve_tools(
        self,
        integration: IntegrationRecord,
        connection: ConnectionRequest,
        ctx: PluginContext,
    ) -> ToolSet:
        """The tools a connection produces."""
        ...

    def can_refresh(self, config: Mapping[str, Any]) -> bool: ...

    def presets(self) -> list[Preset]: ...

    def static_tools(self) -> list[ToolDefinition]: ...


class BasePlugin:
    """Defaults for the optional hooks, so a plugin writes only what it has."""

    id: str = ""
    order: int = 100
    """Registration order among plugins (detection ties break by it)."""

    async def detect(self, url: str, ctx: PluginContext) -> DetectionResult | None:
        return None

    def describe_auth_methods(self, config: Mapping[str, Any]) -> list[AuthMethodDescriptor]:
        return []

    def describe_display(self, config: Mapping[str, Any]) -> str | None:
        return None

    async def resolve_tools(
        self,
        integration: IntegrationRecord,
        connection: ConnectionRequest,
        ctx: PluginContext,
    ) -> ToolSet:
        return ToolSet(incomplete=True)

    def can_refresh(self, config: Mapping[str, Any]) -> bool:
        return False

    def presets(self) -> list[Preset]:
        return []

    def static_tools(self) -> list[ToolDefinition]:
        return []
