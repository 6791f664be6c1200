"""Local `$ref` resolution inside one document: JSON pointers, memoised chains, cycle errors.

Schema references are never followed (tools keep `$ref: #/$defs/X`); parameters, request bodies,
responses, path items and security schemes are, so a chain of any length resolves in one pass
and a cycle among them is a clear error instead of a RecursionError.
"""

from __future__ import annotations

from typing import Any

from switchboard.errors import SpecParseError

DEFS_PREFIX = "#/$defs/"
SCHEMAS_PREFIX = "#/components/schemas/"
MAX_HOPS = 100_000
"""A chain longer than this is refused even without a cycle: no real document comes close."""


def _unescape(token: str) -> str:
    if "%" in token:
        from urllib.parse import unquote

        token = unquote(token)
    return token.replace("~1", "/").replace("~0", "~")


class Resolver:
    """Resolves local references of one document, each chain once."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._done: dict[str, Any] = {}

    def pointer(self, ref: str, *, field: str) -> Any:
        """The value a local JSON pointer names; `#/$defs/X` is `components.schemas.X`."""
        if not ref.startswith("#"):
            raise SpecParseError(
                f"external reference {ref!r} was not bundled (only files next to a file or URL "
                "source can be referenced)",
                field=field,
            )
        if ref.startswith(DEFS_PREFIX):
            ref = SCHEMAS_PREFIX + ref[len(DEFS_PREFIX) :]
        node: Any = self.document
        for raw in ref[1:].split("/")[1:]:
            token = _unescape(raw)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise SpecParseError(f"reference {ref!r} points at nothing", field=field)
        return node

    def resolve(self, node: Any, *, field: str) -> Any:
        """`node` itself, or what its `$ref` chain ends at."""
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node
        done = self._done.get(ref)
        if done is not None:
            return done
        chain: list[str] = []
        seen: set[str] = set()
        current: Any = node
        while isinstance(current, dict) and isinstance(current.get("$ref"), str):
            ref = current["$ref"]
            if ref in self._done:
                current = self._done[ref]
                break
            if ref in seen:
                raise SpecParseError(
                    f"reference cycle: {chain[0]!r} leads back to {ref!r} "
                    f"after {len(chain)} hop(s)",
                    field=field,
                )
            if len(chain) >= MAX_HOPS:
                raise SpecParseError(
                    f"reference chain from {chain[0]!r} is longer than {MAX_HOPS:,} hops",
                    field=field,
                )
            seen.add(ref)
            chain.append(ref)
            current = self.pointer(ref, field=field)
        for ref in chain:
            self._done[ref] = current
        return current
