"""Slug rules for integrations and identifiers for connections (reference §5, gaps fixed)."""

from __future__ import annotations

import re
from collections.abc import Collection

from switchboard.errors import InvalidSlugError
from switchboard.models.integration import RESERVED_SLUGS, SLUG_PATTERN

_SLUG = re.compile(SLUG_PATTERN)
_NON_SLUG = re.compile(r"[^a-z0-9_]+")
_MAX = 63


def validate_slug(slug: str, *, field: str = "spec.slug") -> str:
    """Return `slug` if it is a valid, unreserved integration slug; raise naming `field`."""
    if not _SLUG.match(slug):
        raise InvalidSlugError(
            f"{slug!r} is not a valid slug: lowercase letters, digits and `_`, starting with a "
            f"letter, at most {_MAX} characters ({SLUG_PATTERN})",
            field=field,
        )
    if slug in RESERVED_SLUGS:
        raise InvalidSlugError(f"{slug!r} is reserved for the built-in integration", field=field)
    return slug


def slugify(text: str, *, fallback: str = "api") -> str:
    """Normalize free text (a title, a host name) to a valid slug: trimmed, `[a-z0-9_]`, starting
    with a letter, never reserved. Non-ASCII letters are transliterated where NFKD allows."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("_", ascii_text.strip().lower()).strip("_")
    slug = re.sub(r"_+", "_", slug)
    if slug and not slug[0].isalpha():
        slug = f"{fallback}_{slug}"
    slug = slug[:_MAX].rstrip("_") or fallback
    if slug in RESERVED_SLUGS:
        slug = f"{slug}_api"
    return slug


def unique_slug(base: str, taken: Collection[str]) -> str:
    """`base`, or `base_2`, `base_3`, ... — the first one not in `taken`, within the length cap."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"_{n}"
        candidate = base[: _MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def connection_identifier(name: str) -> str:
    """A connection name as a camelCase identifier: `my-api-key` → `myApiKey`,
    `123abc` → `connection123abc`, `` → `connection`."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    base = "".join(w if i == 0 else w[0].upper() + w[1:] for i, w in enumerate(words))
    if not base:
        return "connection"
    if re.match(r"^[A-Za-z_$]", base):
        return base
    return f"connection{base[0].upper()}{base[1:]}"


def connection_address(integration: str, owner: str, connection: str) -> str:
    return f"tools.{integration}.{owner}.{connection}"
