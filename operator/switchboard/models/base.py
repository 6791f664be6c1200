"""The base model: camelCase aliases for Kubernetes-style documents, strict about unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """A model read from and written to camelCase documents (manifests, status, API bodies)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_attribute_docstrings=True,
        frozen=False,
    )

    def dump(self) -> dict[str, object]:
        """The document form: camelCase keys, unset and None fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
