"""The `Connection` resource: one owner's credentials bound to one integration's auth template."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from switchboard.models.base import CamelModel
from switchboard.models.conditions import Condition
from switchboard.models.integration import SLUG_PATTERN, ToolsSummary
from switchboard.models.meta import ObjectMeta


class Owner(CamelModel):
    """Who the connection belongs to: the whole tenant (`org`) or one user."""

    kind: Literal["org", "user"]
    subject: str | None = None
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
    observed_generation: int | None = None
    address: str | None = None
    """`tools.<integration>.<owner>.<connection>`."""
    template: str | None = None
    tools: ToolsSummary | None = None
    tools_synced_at: str | None = None
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
