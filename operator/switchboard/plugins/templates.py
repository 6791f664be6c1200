"""Auth templates shared by every plugin: slugs, merge/replace, descriptors, rendering.

Follows the reference (§5.3-5.4, §6) except where it lists a gap: slug-less entries merged into a
list get a *deterministic* `custom_<6 base-36>` slug derived from their content, and a second entry
with the same slug in one call gets a fresh slug instead of silently replacing the first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from switchboard.models.auth import (
    TOKEN_VARIABLE,
    ApiKeyTemplate,
    AuthMethodDescriptor,
    AuthTemplate,
    NoneTemplate,
    OAuth2Template,
    OAuthDescriptor,
    PlacementDescriptor,
    StdioEnvTemplate,
)

_TEMPLATES: TypeAdapter[list[AuthTemplate]] = TypeAdapter(list[AuthTemplate])
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"

Template = NoneTemplate | ApiKeyTemplate | OAuth2Template | StdioEnvTemplate


def parse_templates(raw: object) -> list[Template]:
    """Templates from their document form; raises pydantic's ValidationError on bad input."""
    return list(_TEMPLATES.validate_python(raw))


def dump_templates(templates: Iterable[Template]) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in templates]


def _base36(data: bytes, width: int) -> str:
    number = int.from_bytes(data, "big")
    out = []
    for _ in range(width):
        number, digit = divmod(number, 36)
        out.append(_BASE36[digit])
    return "".join(out)


def custom_slug(template: Template, taken: Iterable[str]) -> str:
    """`custom_<6 base-36>` from the template's content: the same input gives the same slug."""
    taken_set = set(taken)
    body = template.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"slug"})
    seed = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    salt = 0
    while True:
        digest = hashlib.sha256(seed + str(salt).encode()).digest()
        slug = f"custom_{_base36(digest, 6)}"
        if slug not in taken_set:
            return slug
        salt += 1


def default_slug(template: Template) -> str:
    """The kind default: none, oauth2, header / query for a single placement, else apikey."""
    if isinstance(template, NoneTemplate):
        return "none"
    if isinstance(template, OAuth2Template):
        return "oauth2"
    if isinstance(template, StdioEnvTemplate):
        return "env"
    if len(template.placements) == 1 and template.placements[0].carrier in ("header", "query"):
        return template.placements[0].carrier
    return "apikey"


def normalize_slugs(templates: Sequence[Template]) -> list[Template]:
    """A trimmed caller slug wins (blank counts as absent), else the kind default; collisions
    get `_2`, `_3`, ..."""
    taken: set[str] = set()
    out: list[Template] = []
    for template in templates:
        requested = (template.slug or "").strip()
        base = requested or default_slug(template)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}_{n}", n + 1
        taken.add(slug)
        out.append(template.model_copy(update={"slug": slug}))
    return out


def merge_templates(existing: Sequence[Template], incoming: Sequence[Template]) -> list[Template]:
    """Merge mode: keep `existing` order; an incoming entry whose trimmed slug matches an existing
    one replaces it in place (with the trimmed slug); others are appended, a slug-less or
    already-used slug getting a deterministic `custom_*` one."""
    result = list(existing)
    taken = {t.slug for t in result if t.slug}
    replaced: set[str] = set()
    for entry in incoming:
        requested = (entry.slug or "").strip()
        index = next((i for i, t in enumerate(result) if t.slug == requested), None)
        if requested and index is not None and requested not in replaced:
            result[index] = entry.model_copy(update={"slug": requested})
            replaced.add(requested)
            continue
        slug = requested if requested and requested not in taken else custom_slug(entry, taken)
        taken.add(slug)
        if requested:
            replaced.add(slug)
        result.append(entry.model_copy(update={"slug": slug}))
    return result


def combine(
    derived: Sequence[Template],
    declared: Sequence[Template] | None,
    mode: str | None,
) -> list[Template]:
    """Derived plus declared templates per `authenticationMode` (merge is the default).
    An explicit empty declared list means no auth at all."""
    if declared is None:
        return list(derived)
    if not declared:
        return []
    if mode == "replace":
        return normalize_slugs(declared)
    return merge_templates(derived, declared)


def required_variables(template: Template) -> list[str]:
    """The distinct variables a template's placements render (literals excluded), in order."""
    if isinstance(template, NoneTemplate):
        return []
    if isinstance(template, OAuth2Template):
        return [TOKEN_VARIABLE]
    if isinstance(template, StdioEnvTemplate):
        return list(dict.fromkeys(template.vars))
    seen: dict[str, None] = {}
    for placement in template.placements:
        if placement.literal is None:
            seen.setdefault(placement.variable or TOKEN_VARIABLE, None)
    return list(seen)


def api_key_label(template: ApiKeyTemplate) -> str:
    if template.label:
        return template.label
    if template.placements:
        return f"API key ({template.placements[0].name})"
    return f"API key ({template.slug})"


def describe(template: Template) -> AuthMethodDescriptor:
    """The public descriptor of one template."""
    slug = template.slug or default_slug(template)
    if isinstance(template, NoneTemplate):
        return AuthMethodDescriptor(
            id=slug, label=template.label or "No authentication", kind="none", template=slug
        )
    if isinstance(template, OAuth2Template):
        oauth = OAuthDescriptor(
            flow=template.flow,
            discovery_url=template.discovery_url,
            authorization_url=template.authorization_url,
            token_url=template.token_url,
            resource=template.resource,
            scopes=list(template.scopes),
            registration_endpoint=template.registration_endpoint,
            supports_dynamic_registration=template.supports_dynamic_registration,
            supports_client_id_metadata_document=template.supports_client_id_metadata_document,
        )
        return AuthMethodDescriptor(
            id=slug, label=template.label or "OAuth2", kind="oauth", template=slug, oauth=oauth
        )
    if isinstance(template, StdioEnvTemplate):
        placements = [
            PlacementDescriptor(carrier="env", name=v, prefix="", variable=v) for v in template.vars
        ]
        return AuthMethodDescriptor(
            id=slug,
            label=template.label or "Environment variables",
            kind="apikey",
            template=slug,
            placements=placements,
        )
    placements = [
        PlacementDescriptor(
            carrier=p.carrier,
            name=p.name,
            prefix=p.prefix or "",
            variable=p.variable,
            literal=p.literal,
        )
        for p in template.placements
    ]
    return AuthMethodDescriptor(
        id=slug, label=api_key_label(template), kind="apikey", template=slug, placements=placements
    )


def describe_all(raw: object) -> list[AuthMethodDescriptor]:
    """Descriptors for a stored template list; malformed input gives `[]`, never an error."""
    if not isinstance(raw, list):
        return []
    try:
        return [describe(t) for t in parse_templates(raw)]
    except (ValidationError, ValueError, TypeError):
        return []


class RenderedAuth(dict[str, dict[str, str]]):
    """`{"headers": {...}, "query": {...}, "cookies": {...}, "env": {...}}` for one request."""


def render(template: Template, values: Mapping[str, str]) -> RenderedAuth:
    """Apply a template to credential values: a literal verbatim, else `prefix + value`;
    a missing value skips its placement; a later placement of the same name wins."""
    out = RenderedAuth(headers={}, query={}, cookies={}, env={})
    if isinstance(template, NoneTemplate):
        return out
    if isinstance(template, OAuth2Template):
        token = values.get(TOKEN_VARIABLE)
        if token is not None:
            prefix = "Bearer " if template.prefix is None else template.prefix
            out["headers"][template.header or "Authorization"] = prefix + token
        return out
    if isinstance(template, StdioEnvTemplate):
        for name in template.vars:
            if name in values:
                out["env"][name] = values[name]
        return out
    bucket = {"header": "headers", "query": "query", "cookie": "cookies", "env": "env"}
    for placement in template.placements:
        if placement.literal is not None:
            value: str | None = placement.literal
        else:
            raw = values.get(placement.variable or TOKEN_VARIABLE)
            value = None if raw is None else (placement.prefix or "") + raw
        if value is not None:
            out[bucket[placement.carrier]][placement.name] = value
    return out
