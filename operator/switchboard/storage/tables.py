"""Database tables (SQLAlchemy 2 typed ORM). Rows stay inside `storage/`; callers get records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

KEY = 255
"""Columns that take part in a key are bounded strings, as in the reference schema."""


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class IntegrationRow(Base):
    """One catalog entry per (tenant, slug)."""

    __tablename__ = "integration"
    __table_args__ = (UniqueConstraint("tenant", "slug", name="integration_uidx"),)

    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(KEY))
    slug: Mapped[str] = mapped_column(String(KEY))
    plugin_id: Mapped[str] = mapped_column(String(KEY))
    name: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    can_remove: Mapped[bool] = mapped_column(Boolean, default=True)
    can_refresh: Mapped[bool] = mapped_column(Boolean, default=False)
    spec_hash: Mapped[str | None] = mapped_column(String(KEY))
    config_revised_at: Mapped[int | None] = mapped_column(BigInteger)
    resource: Mapped[str | None] = mapped_column(String(KEY))
    manifest_hash: Mapped[str | None] = mapped_column(String(KEY))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConnectionRow(Base):
    """An owner's binding of credentials (by reference, never by value) to an integration."""

    __tablename__ = "connection"
    __table_args__ = (
        UniqueConstraint(
            "tenant", "owner", "subject", "integration", "name", name="connection_uidx"
        ),
        Index("connection_integration_idx", "tenant", "integration"),
    )

    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(KEY))
    owner: Mapped[str] = mapped_column(String(KEY))
    subject: Mapped[str] = mapped_column(String(KEY), default="")
    integration: Mapped[str] = mapped_column(String(KEY))
    name: Mapped[str] = mapped_column(String(KEY))
    template: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(KEY))
    item_ids: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Template variable → where its value lives (Secret key, env name, file path); no values."""
    description: Mapped[str | None] = mapped_column(Text)
    resource: Mapped[str | None] = mapped_column(String(KEY))
    tools_synced_at: Mapped[int | None] = mapped_column(BigInteger)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Added in 0002: readiness and tool sync state, so a background rebuild works from rows alone.
    ready: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    reason: Mapped[str | None] = mapped_column(String(KEY))
    synced_revision: Mapped[int | None] = mapped_column(BigInteger)
    """The integration's `config_revised_at` the tools were materialized against."""
    tool_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tools_digest: Mapped[str | None] = mapped_column(String(KEY))
    stale: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ToolRow(Base):
    """A tool. Spec-derived tools are stored once per integration (owner, subject and connection
    empty); tools that depend on a connection's credentials carry its identity."""

    __tablename__ = "tool"
    __table_args__ = (
        UniqueConstraint(
            "tenant", "owner", "subject", "integration", "connection", "name", name="tool_uidx"
        ),
        Index("tool_integration_idx", "tenant", "integration"),
    )

    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(KEY))
    owner: Mapped[str] = mapped_column(String(KEY), default="")
    subject: Mapped[str] = mapped_column(String(KEY), default="")
    integration: Mapped[str] = mapped_column(String(KEY))
    connection: Mapped[str] = mapped_column(String(KEY), default="")
    name: Mapped[str] = mapped_column(String(KEY))
    plugin_id: Mapped[str] = mapped_column(String(KEY))
    description: Mapped[str | None] = mapped_column(Text)
    input_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    output_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON)
    binding: Mapped[dict[str, Any]] = mapped_column(JSON)


class DefinitionRow(Base):
    """A shared JSON-schema `$defs` entry, scoped like tools."""

    __tablename__ = "definition"
    __table_args__ = (
        UniqueConstraint(
            "tenant",
            "owner",
            "subject",
            "integration",
            "connection",
            "name",
            name="definition_uidx",
        ),
    )

    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(KEY))
    owner: Mapped[str] = mapped_column(String(KEY), default="")
    subject: Mapped[str] = mapped_column(String(KEY), default="")
    integration: Mapped[str] = mapped_column(String(KEY))
    connection: Mapped[str] = mapped_column(String(KEY), default="")
    name: Mapped[str] = mapped_column(String(KEY))
    plugin_id: Mapped[str] = mapped_column(String(KEY))
    schema: Mapped[dict[str, Any]] = mapped_column(JSON)


class SourceFileRow(Base):
    """File mode: the digest of each manifest file as last written, and what it declared,
    so an unchanged repository is recognised without parsing it."""

    __tablename__ = "source_file"
    __table_args__ = (UniqueConstraint("root", "path", name="source_file_uidx"),)

    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    root: Mapped[str] = mapped_column(String(1024))
    path: Mapped[str] = mapped_column(String(1024))
    digest: Mapped[str] = mapped_column(String(KEY))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Resources declared and the digests of the files they read (specs)."""
