"""Where a document (an OpenAPI spec, a GraphQL introspection snapshot) comes from."""

from __future__ import annotations

from pydantic import Field, model_validator

from switchboard.models.base import CamelModel


class ConfigMapKeyRef(CamelModel):
    """A key of a ConfigMap in the resource's namespace."""

    name: str = Field(min_length=1)
    key: str = Field(min_length=1)


class DocumentSource(CamelModel):
    """Exactly one of `file`, `url`, `inline`, `configMapRef`."""

    file: str | None = None
    """Repository-relative path (file mode only)."""
    url: str | None = None
    """http(s) URL, fetched through the outbound-safety policy."""
    inline: str | None = None
    """The document text itself."""
    config_map_ref: ConfigMapKeyRef | None = None
    """A ConfigMap key in the same namespace (cluster mode)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> DocumentSource:
        given = [
            name
            for name, value in (
                ("file", self.file),
                ("url", self.url),
                ("inline", self.inline),
                ("configMapRef", self.config_map_ref),
            )
            if value is not None
        ]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(
                f"exactly one of file, url, inline, configMapRef must be set (found: {found})"
            )
        return self

    @property
    def described(self) -> str:
        """A short, non-secret description for messages."""
        if self.file is not None:
            return f"file {self.file}"
        if self.url is not None:
            return f"url {self.url}"
        if self.config_map_ref is not None:
            return f"configMap {self.config_map_ref.name}/{self.config_map_ref.key}"
        return "inline document"
