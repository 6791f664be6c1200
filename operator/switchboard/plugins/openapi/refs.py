"""Local `$ref` resolution inside one document, with cycle detection and a hop budget."""

from __future__ import annotations

from typing import Any

from switchboard.errors import SpecParseError

MAX_HOPS = 64
"""A chain of refs-to-refs longer than this is treated as a cycle."""


def pointer(document: Any, ref: str, *, field: str) -> Any:
    """The value a local JSON pointer (`#/a/b`) names."""
    if not ref.startswith("#"):
        raise SpecParseError(f"external reference {ref!r} cannot be resolved here", field=field)
    node = document
    for raw in ref[1:].split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise SpecParseError(f"reference {ref!r} points at nothing", field=field)
    return node


def deref(document: Any, node: Any, *, field: str) -> Any:
    """Follow `$ref` chains until a non-reference object; cycles and dangling refs raise."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or len(seen) >= MAX_HOPS:
            raise SpecParseError(f"reference cycle through {ref!r}", field=field)
        seen.add(ref)
        node = pointer(document, ref, field=field)
    return node
