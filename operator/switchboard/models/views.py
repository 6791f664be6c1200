"""Public projections: what the catalog shows to users and other systems (never `config`)."""

from __future__ import annotations

from typing import Any

from switchboard.models.auth import AuthMethodDescriptor
from switchboard.models.base import CamelModel


class IntegrationView(CamelModel):
    """An integration as `switchboard catalog get` and the HTTP API show it."""

    slug: str
    name: str
    description: str
    kind: str
    can_remove: bool
    can_refresh: bool
    auth_methods: list[AuthMethodDescriptor]
    display_url: str | None = None
    tenant: str | None = None


class ToolView(CamelModel):
    """A materialized tool with its address."""

    address: str
    integration: str
    name: str
    description: str
    requires_approval: bool = False
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    owner: str | None = None
    """org or user, for a connection's tool."""
    subject: str | None = None
    """The user, for a user-owned connection's tool."""
    connection: str | None = None
    """The connection name, for a connection's tool."""
