"""Manifest files in a repository: scanning, splitting into documents, and writing `status:` back.

Status is spliced into each document's own text: everything outside the `status:` block (comments,
key order, quoting, the other documents of the file) stays byte-for-byte unchanged, and the same
status always renders to the same bytes, so a second run changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any

import yaml

from switchboard.errors import PathEscapeError, SpecParseError
from switchboard.plugins.documents import (
    EXPANSION_ALLOWANCE,
    MAX_EXPANSION,
    SafeLoader,
    expansion,
)
from switchboard.reconcile.ports import ManifestDocument, ManifestFile
from switchboard.storage.emitting import dump_block

YAML_SUFFIXES = (".yaml", ".yml")
_DOC_START = re.compile(rb"^---(?=[ \t\r\n]|$)", re.MULTILINE)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _yaml() -> Any:
    from ruamel.yaml import YAML  # round-trip only for flow-style documents (rare)

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml


def _status_yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold long messages: folding would change bytes between versions
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


class ManifestRepository:
    """Manifest files under a repository root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def relative(self, path: Path) -> str:
        resolved = path.resolve()
        try:
            return resolved.relative_to(self.root).as_posix()
        except ValueError:
            raise PathEscapeError(
                f"{path} is outside the repository root {self.root}", field="PATH"
            ) from None

    def scan(self, paths: list[Path]) -> list[str]:
        """Repository-relative paths of the YAML files under `paths` (files or directories)."""
        found: dict[str, None] = {}
        for path in paths:
            if path.is_dir():
                for child in sorted(path.rglob("*")):
                    if child.suffix in YAML_SUFFIXES and child.is_file():
                        found[self.relative(child)] = None
            elif path.is_file():
                found[self.relative(path)] = None
            else:
                raise FileNotFoundError(f"{path}: no such file or directory")
        return list(found)

    def read(self, path: str) -> ManifestFile:
        body = (self.root / path).read_bytes()
        return ManifestFile(path=path, body=body)

    def split(self, manifest: ManifestFile) -> list[bytes]:
        if not manifest.chunks:
            manifest.chunks = split_documents(manifest.body)
        return manifest.chunks

    def write(self, path: str, body: bytes) -> None:
        target = self.root / path
        temporary = target.with_name(f".{target.name}.switchboard-tmp")
        temporary.write_bytes(body)
        temporary.replace(target)

    def load(self, manifest: ManifestFile) -> list[ManifestDocument]:
        self.split(manifest)
        return load_documents(manifest)

    def with_status(self, chunk: bytes, status: dict[str, Any]) -> bytes:
        return with_status(chunk, status)

    def digest(self, relative: str) -> str | None:
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return None
        return hashlib.sha256(target.read_bytes()).hexdigest()


def split_documents(body: bytes) -> list[bytes]:
    """Chunks that concatenate back to `body`, one per YAML document (a leading chunk of only
    comments or a directive belongs to the first document)."""
    starts = [m.start() for m in _DOC_START.finditer(body)]
    if not starts or starts[0] != 0:
        starts = [0, *starts]
    chunks = [body[a:b] for a, b in zip(starts, [*starts[1:], len(body)], strict=True)]
    # A first chunk holding nothing but comments/blank lines merges into the next one.
    if len(chunks) > 1 and not _has_content(chunks[0]):
        chunks = [chunks[0] + chunks[1], *chunks[2:]]
    return chunks


def _has_content(chunk: bytes) -> bool:
    for line in chunk.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(b"#") and stripped != b"---":
            return True
    return False


def _compose(text: str, *, where: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for key positions) and its data, parsed once with libyaml."""
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if "&" in text and "*" in text:
            distinct, expanded = expansion(node)
            if expanded > distinct * MAX_EXPANSION + EXPANSION_ALLOWANCE:
                raise SpecParseError(
                    f"YAML aliases expand the document to {expanded:,} nodes from {distinct:,}; "
                    "refusing a possible alias bomb",
                    field=where,
                )
        return node, loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or type(exc).__name__
        at = (
            f"{where.rsplit(':', 1)[0]}:{int(where.rsplit(':', 1)[1]) + mark.line}"
            if mark
            else where
        )
        raise SpecParseError(f"invalid YAML: {problem}", field=at) from exc
    finally:
        loader.dispose()


def load_documents(manifest: ManifestFile) -> list[ManifestDocument]:
    """Parse every chunk; raises SpecParseError naming the file and line."""
    out = []
    line = 1
    for index, chunk in enumerate(manifest.chunks):
        text = chunk.decode("utf-8-sig")
        data = _compose(text, where=f"{manifest.path}:{line}")[1] if _has_content(chunk) else None
        out.append(ManifestDocument(index=index, data=data, line=line))
        line += chunk.count(b"\n")
    return out


def _render_status(status: dict[str, Any]) -> str:
    return dump_block("status", status)


def with_status(chunk: bytes, status: dict[str, Any]) -> bytes:
    """The document chunk with its top-level `status:` replaced (or appended)."""
    text = chunk.decode("utf-8-sig")
    bom = "\ufeff" if chunk.startswith(b"\xef\xbb\xbf") else ""
    node, _ = _compose(text, where="document:0")
    if not isinstance(node, yaml.MappingNode) or node.flow_style:
        return bom.encode() + _redump_with_status(text, status)
    rendered = _render_status(status)
    lines = text.splitlines(keepends=True)
    keys = [(key.value, key.start_mark.line) for key, _ in node.value]
    names = [name for name, _ in keys]
    if "status" in names:
        position = names.index("status")
        start = keys[position][1]
        end = keys[position + 1][1] if position + 1 < len(keys) else len(lines)
        if position + 1 >= len(keys):
            # Keep trailing column-0 comments and blank lines that follow the block.
            while end > start + 1 and (
                not lines[end - 1].strip() or lines[end - 1].startswith("#")
            ):
                end -= 1
        new_lines = [*lines[:start], rendered, *lines[end:]]
    else:
        end = len(lines)
        while end > 0 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1
        head = lines[:end]
        if head and not head[-1].endswith("\n"):
            head[-1] += "\n"
        new_lines = [*head, rendered, *lines[end:]]
    return (bom + "".join(new_lines)).encode()


def _redump_with_status(text: str, status: dict[str, Any]) -> bytes:
    """A flow-style document cannot take a block: round-trip it with ruamel, status included."""
    from ruamel.yaml.comments import CommentedMap  # only flow-style documents need ruamel

    loaded = _yaml().load(text)
    data = loaded if isinstance(loaded, CommentedMap) else CommentedMap()
    data["status"] = status
    stream = io.StringIO()
    header = "---\n" if text.startswith("---") else ""
    _status_yaml().dump(data, stream)
    return (header + stream.getvalue()).encode()
