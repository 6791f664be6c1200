"""Tool names for OpenAPI operations: `<group>.<leaf>` per the reference (§7.5), with collision
rounds (version segment, method, method + stable hash) and version segments kept dot-free."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9]|[^A-Za-z0-9]|$)|[A-Z]?[a-z0-9]+|[A-Z]+")
_VERSION = re.compile(r"^v\d+(?:[._-]\d+)?$", re.IGNORECASE)
_PARAM = re.compile(r"^\{.*\}$")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_ID_PIECES = re.compile(r"[/.]")
CACHE = 65_536
"""Tags and path segments repeat across thousands of operations: each is split once."""


def words(text: str) -> list[str]:
    """Words split on case changes and non-alphanumerics."""
    return [w.lower() for part in _NON_ALNUM.split(text) for w in _WORDS.findall(part)]


@lru_cache(maxsize=CACHE)
def camel(text: str) -> str:
    parts = words(text)
    if not parts:
        return "tool"
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


@lru_cache(maxsize=CACHE)
def _piece_words(piece: str) -> tuple[str, ...]:
    return tuple(words(piece))


def _joined_camel(pieces: list[str]) -> str:
    """`camel(" ".join(pieces))`, from per-piece word lists (pieces repeat, whole ids do not)."""
    parts = [w for piece in pieces for w in _piece_words(piece)]
    if not parts:
        return "tool"
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


@lru_cache(maxsize=CACHE)
def pascal(text: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in words(text))


@lru_cache(maxsize=CACHE)
def is_version(segment: str) -> bool:
    return bool(_VERSION.match(segment))


def segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def fallback_operation_id(method: str, path: str) -> str:
    flat = re.sub(r"[^a-zA-Z0-9]+", "_", path)
    return f"{method}_{flat}".strip("_") or f"{method}_operation"


def _group(tags: list[str], path: str) -> str:
    for tag in tags:
        if isinstance(tag, str) and tag.strip():
            return camel(tag)
    for segment in segments(path):
        if is_version(segment) or segment.lower() == "api" or _PARAM.match(segment):
            continue
        return camel(segment)
    return "root"


def _leaf(group: str, operation_id: str, method: str, path: str) -> str:
    pieces = [p for p in _ID_PIECES.split(operation_id) if p]
    if pieces and camel(pieces[0]) == group:
        pieces = pieces[1:]
    leaf = _joined_camel(pieces) if pieces else ""
    if not leaf or leaf == "tool" or leaf == group:
        rest = [
            s
            for s in segments(path)
            if not (is_version(s) or s.lower() == "api" or _PARAM.match(s) or camel(s) == group)
        ]
        leaf = camel(method + (pascal(" ".join(rest)) or "Operation"))
    return leaf


def _version(path: str) -> str | None:
    for segment in segments(path):
        if is_version(segment):
            return re.sub(r"[._-]", "_", segment.lower())
    return None


def _hash8(method: str, path: str, operation_id: str) -> str:
    digest = hashlib.sha256(f"{method}\n{path}\n{operation_id}".encode()).digest()
    number = int.from_bytes(digest[:4], "big")
    out = ""
    while number:
        number, digit = divmod(number, 36)
        out = _BASE36[digit] + out
    return out.rjust(8, "0")


@dataclass(frozen=True)
class OperationKey:
    """What naming needs to know about one operation."""

    method: str
    path: str
    operation_id: str
    tags: tuple[str, ...] = ()
    tool_path: str | None = None
    """`x-switchboard-toolPath` / `x-executor-toolPath` override."""


def name_tools(operations: list[OperationKey]) -> list[str]:
    """A unique tool name for each operation, in the same order."""
    groups = [_group(list(op.tags), op.path) for op in operations]
    leaves = [
        _leaf(g, op.operation_id, op.method, op.path)
        for g, op in zip(groups, operations, strict=True)
    ]
    names = [
        op.tool_path or f"{g}.{leaf}"
        for g, leaf, op in zip(groups, leaves, operations, strict=True)
    ]

    by_name: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(names):
        by_name[name].append(index)
    clashes = [indexes for indexes in by_name.values() if len(indexes) > 1]

    def rename(clashing: list[list[int]], new_name: Callable[[int], str]) -> list[list[int]]:
        """Rename every clashing operation, then the clashes that remain (an operation renamed
        into a name another one holds joins the next round)."""
        touched: set[str] = set()
        for clash in clashing:
            for i in list(clash):
                renamed = new_name(i)
                if renamed != names[i]:
                    by_name[names[i]].remove(i)
                    names[i] = renamed
                    by_name[renamed].append(i)
                    touched.add(renamed)
            touched.update(names[i] for i in clash)
        return [by_name[n] for n in sorted(touched) if len(by_name[n]) > 1]

    def with_version(i: int) -> str:
        version = _version(operations[i].path)
        prefix = f"{groups[i]}.{version}" if version else groups[i]
        return f"{prefix}.{leaves[i]}"

    def method(i: int) -> str:
        return operations[i].method.capitalize()

    # Round 1: the version segment; round 2: the method; round 3: method + stable hash.
    clashes = rename(clashes, lambda i: names[i] if operations[i].tool_path else with_version(i))
    clashes = rename(
        clashes,
        lambda i: names[i] if operations[i].tool_path else with_version(i) + method(i),
    )
    clashes = rename(
        clashes,
        lambda i: (
            (operations[i].tool_path or with_version(i))
            + method(i)
            + _hash8(operations[i].method, operations[i].path, operations[i].operation_id)
        ),
    )
    # Truly identical operations (same method, path and id twice): ordinal suffixes.
    for clash in clashes:
        for ordinal, i in enumerate(sorted(clash)[1:], start=2):
            names[i] = f"{names[i]}_{ordinal}"
    return names
