"""Settings: one pydantic-settings tree, environment prefix `SWITCHBOARD_`, read once at startup."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DB = "sqlite:///.switchboard/catalog.db"


class Settings(BaseSettings):
    """Every knob, with the same names as CLI flags where both exist."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    db: str = DEFAULT_DB
    """Database URL: SQLite file by default, `postgresql+psycopg://...` in production."""
    outbound_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """CIDRs and host names exempt from the private-address refusal (`127.0.0.0/8,::1`);
    `*.corp.example` allows every subdomain of `corp.example`."""
    detect_deadline: float = Field(default=10.0, gt=0)
    """Seconds for a whole detection fan-out."""
    fetch_deadline: float = Field(default=30.0, gt=0)
    """Seconds for one outbound fetch, redirects included."""
    connect_timeout: float = Field(default=5.0, gt=0)
    mcp_allow_stdio: bool = False
    """Run stdio MCP servers (off by default: they execute commands)."""
    max_spec_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    """Size cap for any fetched or read document."""
    concurrency: int = Field(default=8, ge=1, le=256)
    """Registrations in flight at once."""
    root: Path | None = None
    """File mode: the repository root (default: the git top level, else the current folder)."""

    @field_validator("outbound_allow", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
