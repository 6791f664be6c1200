"""Interfaces the reconcile layer needs from the outside (manifest files); `storage/` implements."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass
class ManifestDocument:
    """One YAML document of a manifest file."""

    index: int
    data: Any
    """Plain JSON-like data (dicts, lists, scalars)."""
    line: int
    """1-based line where the document starts."""


@dataclass
class ManifestFile:
    """A manifest file's bytes split into document chunks that concatenate back to `body`."""

    path: str
    """Repository-relative, `/`-separated."""
    body: bytes
    chunks: list[bytes] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class ManifestStore(Protocol):
    """Manifest files under a repository root."""

    root: Path

    def scan(self, paths: list[Path]) -> list[str]: ...

    def read(self, path: str) -> ManifestFile:
        """The file's bytes; its document chunks are split on demand (`split`, `load`)."""
        ...

    def split(self, manifest: ManifestFile) -> list[bytes]: ...

    def load(self, manifest: ManifestFile) -> list[ManifestDocument]: ...

    def with_status(self, chunk: bytes, status: dict[str, Any]) -> bytes: ...

    def write(self, path: str, body: bytes) -> None: ...

    def digest(self, relative: str) -> str | None:
        """sha256 of a repository file, None when it does not exist or leaves the root."""
        ...
