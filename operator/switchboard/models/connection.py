"""The `Connection` resource: one owner's credentials bound to one integration's auth template,
and the record the catalog keeps of it (references to credentials, never their values)."""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import Field, model_validator

from switchboard.models.base import CamelModel
from switchboard.models.conditions import Condition
from switchboard.models.integration import SLUG_PATTERN, ToolsSummary
from switchboard.models.meta import ObjectMeta
from switchboard.models.records import Record

NO_AUTH_TEMPLATE = "none"
"""The template every integration accepts: no credentials, nothing sent."""


class Owner(CamelModel):
    """Who the connection belongs to: the whole tenant (`org`) or one user."""

    kind: Literal["org", "user"]
    subject: str | None = Field(default=None, max_length=255)
    """The user's identity; required when kind is user."""

    @model_validator(mode="after")
    def _subject_matches_kind(self) -> Owner:
        if self.kind == "user" and not self.subject:
            raise ValueError("subject is required when kind is user")
        if self.kind == "org" and self.subject:
            raise ValueError("subject must be empty when kind is org")
        return self


class SecretKeysRef(CamelModel):
    """A Secret in the connection's namespace; `keys` maps template variables to Secret keys."""

    name: str = Field(min_length=1)
    keys: dict[str, str] | None = None
    """Template variable → Secret key; `{token: token}` when absent."""


class Credentials(CamelModel):
    """Where the template's variables get their values. Values are never copied anywhere."""

    secret_ref: SecretKeysRef | None = None
    """Cluster mode."""
    env: dict[str, str] | None = None
    """File mode: template variable → environment variable name."""
    files: dict[str, str] | None = None
    """File mode: template variable → repository-relative file path."""

    @model_validator(mode="after")
    def _one_provider(self) -> Credentials:
        given = [
            n
            for n, v in (("secretRef", self.secret_ref), ("env", self.env), ("files", self.files))
            if v is not None
        ]
        if len(given) > 1:
            # All of a connection's values come from one provider, so one reference says where.
            raise ValueError(
                f"at most one of secretRef, env, files may be set (found: {', '.join(given)})"
            )
        return self


class ConnectionSpec(CamelModel):
    integration: str = Field(pattern=SLUG_PATTERN)
    """The integration slug in the same tenant."""
    owner: Owner
    name: str | None = None
    """Connection name, normalized to an identifier (`my-api-key` → `myApiKey`);
    defaults to metadata.name."""
    template: str = Field(min_length=1)
    """One of the integration's `status.authMethods[].template`."""
    credentials: Credentials | None = None
    description: str | None = None


class ConnectionStatus(CamelModel):
    """What Switchboard learned about the connection. Never holds a credential value."""

    observed_generation: int | None = None
    address: str | None = None
    """`tools.<integration>.<owner>.<connection>`."""
    name: str | None = None
    """The connection name as an identifier (`my-api-key` → `myApiKey`)."""
    template: str | None = None
    tools: ToolsSummary | None = None
    """Every tool at the address: the integration's shared ones and the connection's own."""
    tools_synced_at: str | None = None
    """When the tools were last materialized for this connection."""
    missing_credentials: list[str] | None = None
    """Template variables with no value, and where each was looked for (names only)."""
    conditions: list[Condition] = Field(default_factory=list)
    last_attempt_time: str | None = None
    last_success_time: str | None = None
    consecutive_failures: int | None = None
    last_handled_refresh_at: str | None = None


class Connection(CamelModel):
    api_version: Literal["switchboard.dev/v1alpha1"] = "switchboard.dev/v1alpha1"
    kind: Literal["Connection"] = "Connection"
    metadata: ObjectMeta
    spec: ConnectionSpec
    status: ConnectionStatus | None = None

    @property
    def tenant(self) -> str:
        return self.metadata.namespace or "default"


class ConnectionKey(NamedTuple):
    """A connection's identity in the catalog (reference §1.2)."""

    tenant: str
    owner: str
    """org or user."""
    subject: str
    """The user for owner user; empty for org."""
    integration: str
    name: str
    """The normalized identifier."""

    @property
    def address(self) -> str:
        return f"tools.{self.integration}.{self.owner}.{self.name}"


class ConnectionRecord(Record):
    """One connection row: where its credentials live (by reference) and its tool sync state."""

    tenant: str
    owner: str
    subject: str = ""
    integration: str
    name: str
    template: str
    provider: str
    """`none`, `env`, `files` or `secret:<name>`: where every value of this connection lives."""
    item_ids: dict[str, str] = Field(default_factory=dict)
    """Template variable → env name, file path or Secret key. Never a value."""
    description: str | None = None
    resource: str | None = None
    """The declaring manifest or object: `metadata.name`."""
    ready: bool = True
    reason: str = ""
    tools_synced_at: int | None = None
    """Epoch ms of the last successful materialization."""
    synced_revision: int | None = None
    """The integration's `config_revised_at` the tools were materialized against."""
    tool_count: int = 0
    tools_digest: str | None = None
    stale: bool = False
    """The last rebuild failed; the tools are the last good ones."""
    consecutive_failures: int = 0
    updated_at: int | None = None
    """Epoch ms of the last write (for rebuild backoff)."""

    @property
    def key(self) -> ConnectionKey:
        return ConnectionKey(self.tenant, self.owner, self.subject, self.integration, self.name)
