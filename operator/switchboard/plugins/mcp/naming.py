"""Names for MCP servers and tools: the integration slug a server suggests, tool ids that are safe
in a tool address (`_2` suffixes on collisions), and the URL-token test of detection.

Plugins cannot import the catalog, so the slug normalizer here is a small local one with the
same rules as `catalog.slugs.slugify` (lowercase `[a-z0-9_]`, starts with a letter, <= 63).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePath
from urllib.parse import urlsplit

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_MAX_SLUG = 63
_RESERVED = frozenset({"switchboard"})


def slugify(text: str, *, fallback: str = "mcp") -> str:
    """Free text as a valid integration slug; `fallback` when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_ALNUM.sub("_", ascii_text.strip().lower()).strip("_")
    if slug and not slug[0].isalpha():
        slug = f"{fallback}_{slug}"
    slug = slug[:_MAX_SLUG].rstrip("_") or fallback
    return f"{slug}_mcp" if slug in _RESERVED else slug


def server_slug(
    *, name: str | None = None, endpoint: str | None = None, command: str | None = None
) -> str:
    """The slug a server suggests (reference case 1-3): its name, else the endpoint's host, else
    the command's file name, else `mcp`."""
    if name and _NON_ALNUM.sub("", name.lower()):
        return slugify(name)
    if endpoint:
        host = urlsplit(endpoint.strip()).hostname
        if host:
            return slugify(host)
    if command:
        stem = PurePath(command.strip()).name
        if stem:
            return slugify(stem)
    return "mcp"


def sanitize_tool_name(name: str) -> str:
    """trim, lowercase, runs of other characters to `_`, trimmed of `_`; `tool` when empty."""
    return _NON_ALNUM.sub("_", name.strip().lower()).strip("_") or "tool"


def tool_ids(names: Iterable[str]) -> list[str]:
    """Sanitized ids in order; a repeat gets `_2`, `_3`, ... (reference case 9), and a suffixed
    id never collides with a later plain one."""
    taken: set[str] = set()
    out: list[str] = []
    for name in names:
        base = sanitize_tool_name(name)
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}_{n}", n + 1
        taken.add(candidate)
        out.append(candidate)
    return out


_WORD_EDGE = r"(?:^|[^a-z0-9]){token}(?:$|[^a-z0-9])"


def has_url_token(url: str, word: str = "mcp") -> bool:
    """Whether `word` stands alone in the host or path (`/api/mcp`, `mcp.example.com`), not
    inside a word (`/mcpstore`)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    pattern = re.compile(_WORD_EDGE.format(token=re.escape(word)), re.IGNORECASE)
    return bool(pattern.search(parts.hostname or "") or pattern.search(parts.path or ""))
