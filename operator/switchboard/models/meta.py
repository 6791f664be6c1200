"""The part of Kubernetes `ObjectMeta` that Switchboard reads."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from switchboard.models.base import CamelModel


class ObjectMeta(CamelModel):
    """Object metadata; fields Switchboard does not read are kept as they are."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=253)
    namespace: str | None = None
    generation: int | None = None
    uid: str | None = None
    resource_version: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
