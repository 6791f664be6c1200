"""Auth templates derived from `securitySchemes` and the `security` requirements (reference §7.3,
with its gaps fixed): apiKey in query or cookie and non-bearer http schemes get placements that
are really sent; every OAuth2 flow gets its own slug; openIdConnect keeps its discovery URL;
requirements that only operations declare become templates too, and each operation records which
templates satisfy it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from switchboard.models.auth import ApiKeyTemplate, AuthPlacement, NoneTemplate, OAuth2Template
from switchboard.plugins.openapi.refs import Resolver

IDENTITY_SCOPES = ("openid", "email", "profile")
FLOW_ORDER = ("authorizationCode", "clientCredentials", "implicit", "password")
FLOW_SLUGS = {
    "authorizationCode": "authorization-code",
    "clientCredentials": "client-credentials",
    "implicit": "implicit",
    "password": "password",
}
KNOWN_TYPES = frozenset({"http", "apiKey", "oauth2", "openIdConnect"})
OAUTH_TYPES = frozenset({"oauth2", "openIdConnect"})
NONE = "none"

Template = NoneTemplate | ApiKeyTemplate | OAuth2Template
Requirement = tuple[str, ...]
"""The scheme names of one requirement object, all needed together (sorted)."""


def schemes(document: dict[str, Any], resolver: Resolver, *, field: str) -> dict[str, Any]:
    """`components.securitySchemes`, each resolved through `$ref`; unknown types dropped."""
    components = document.get("components")
    raw = components.get("securitySchemes") if isinstance(components, dict) else None
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    for name, scheme in raw.items():
        resolved = resolver.resolve(scheme, field=f"{field}.components.securitySchemes.{name}")
        if isinstance(resolved, dict) and resolved.get("type") in KNOWN_TYPES:
            out[str(name)] = resolved
    return out


def requirements(security: Any, known: dict[str, Any]) -> list[Requirement] | None:
    """A `security` array as alternatives, each the scheme names needed together in declared
    order; `()` means "no auth" (`security: []` or an empty object). None when not declared.
    A requirement naming an undeclared scheme cannot be met and is dropped."""
    if not isinstance(security, list):
        return None
    if not security:
        return [()]
    out: list[Requirement] = []
    seen: set[frozenset[str]] = set()
    for entry in security:
        if not isinstance(entry, dict):
            continue
        names = tuple(str(n) for n in entry)
        if all(n in known for n in names) and frozenset(names) not in seen:
            seen.add(frozenset(names))
            out.append(names)
    return out


def _variable(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "input"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}_{n}", n + 1
    taken.add(slug)
    return slug


def placement(name: str, scheme: dict[str, Any]) -> AuthPlacement | None:
    """Where a non-OAuth scheme's credential goes."""
    kind = scheme.get("type")
    if kind == "http":
        word = str(scheme.get("scheme") or "").strip()
        lowered = word.lower()
        if lowered in ("bearer", "basic"):
            prefix = lowered.capitalize() + " "
        else:  # digest, hoba, a vendor word: the header still carries `<Scheme> <value>`
            prefix = f"{word} " if word else ""
        return AuthPlacement(carrier="header", name="Authorization", prefix=prefix or None)
    if kind == "apiKey":
        where = scheme.get("in")
        key = str(scheme.get("name") or name)
        if where in ("header", "query", "cookie"):
            return AuthPlacement(carrier=where, name=key)
    return None


def _absolute(url: object, base: str | None) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    return urljoin(base, url) if base and not url.startswith(("http://", "https://")) else url


def oauth_templates(name: str, scheme: dict[str, Any], base: str | None) -> list[OAuth2Template]:
    """One template per usable flow: the first keeps `oauth-<scheme>` (the reference's slug),
    later ones get `oauth-<scheme>-<flow>`. openIdConnect: one template with its discovery URL."""
    if scheme.get("type") == "openIdConnect":
        discovery = _absolute(scheme.get("openIdConnectUrl"), base)
        if discovery is None:
            return []
        return [
            OAuth2Template(
                slug=f"oauth-{name}",
                label=f"OpenID Connect · {name}",
                discovery_url=discovery,
                scopes=list(IDENTITY_SCOPES),
            )
        ]
    flows = scheme.get("flows")
    if not isinstance(flows, dict):
        return []
    out: list[OAuth2Template] = []
    for flow in FLOW_ORDER:
        spec = flows.get(flow)
        if not isinstance(spec, dict):
            continue
        auth_url = _absolute(spec.get("authorizationUrl"), base)
        token_url = _absolute(spec.get("tokenUrl"), base)
        needs_auth = flow in ("authorizationCode", "implicit")
        needs_token = flow != "implicit"
        if (needs_auth and not auth_url) or (needs_token and not token_url):
            continue
        declared = spec.get("scopes")
        scopes = [str(s) for s in declared] if isinstance(declared, dict) else []
        if flow == "authorizationCode":
            scopes += [s for s in IDENTITY_SCOPES if s not in scopes]
        label = re.sub(r"(?<!^)(?=[A-Z])", " ", flow).title()
        out.append(
            OAuth2Template(
                slug=f"oauth-{name}" if not out else f"oauth-{name}-{FLOW_SLUGS[flow]}",
                label=f"OAuth2 {label} · {name}",
                flow=flow,
                authorization_url=auth_url,
                token_url=token_url,
                refresh_url=_absolute(spec.get("refreshUrl"), base),
                scopes=scopes,
            )
        )
    return out


@dataclass
class Derived:
    """The templates a document implies, and which of them satisfy each requirement list."""

    templates: list[Template]
    by_requirement: dict[frozenset[str], list[str]]
    known: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    _cache: dict[int, list[str]] = field(default_factory=dict)

    @property
    def slugs(self) -> list[str]:
        return [t.slug or "" for t in self.templates]

    def accepts(self, security: Any) -> list[str]:
        """Slugs of the templates that satisfy an operation's `security` (`none` when the
        operation allows anonymous calls); every template when nothing is declared."""
        cached = self._cache.get(id(security))
        if cached is not None:
            return cached
        alternatives = requirements(security, self.known)
        if alternatives is None:
            result = self.slugs
        else:
            seen: dict[str, None] = {}
            for requirement in alternatives:
                slugs = (
                    self.by_requirement.get(frozenset(requirement), []) if requirement else [NONE]
                )
                for slug in slugs:
                    seen.setdefault(slug, None)
            result = list(seen)
        if security is not None:  # the document's list is one object shared by every operation
            self._cache[id(security)] = result
        return result

    def add_alternative(self, template: Template) -> None:
        """A template the document does not declare (discovered OAuth) that the API accepts
        wherever it asks for a credential: it satisfies every requirement that is not `none`."""
        slug = template.slug or ""
        self.templates.append(template)
        self.by_requirement = {key: [*slugs, slug] for key, slugs in self.by_requirement.items()}
        self._cache.clear()


def derive(
    document: dict[str, Any],
    resolver: Resolver,
    operation_security: Iterable[Any],
    *,
    base_url: str | None,
    field: str,
) -> Derived:
    """Templates for the document: `none` when some call needs no auth, one `apikey-N` per
    non-OAuth requirement (several schemes in one requirement → one template, one variable per
    placement), then one OAuth2 template per scheme and flow."""
    known = schemes(document, resolver, field=field)
    declared = requirements(document.get("security"), known)
    if declared is None:
        declared = [(name,) for name in known]  # no document-level security: each scheme alone
    ordered: list[Requirement] = []
    seen: set[frozenset[str]] = set()
    for alternatives in [declared, *(requirements(s, known) or [] for s in operation_security)]:
        for requirement in alternatives:
            if frozenset(requirement) not in seen:
                seen.add(frozenset(requirement))
                ordered.append(requirement)
    templates: list[Template] = []
    by_requirement: dict[frozenset[str], list[str]] = {}
    warnings: list[str] = []
    if not known or () in ordered:
        templates.append(NoneTemplate(slug=NONE))
    index = 0
    oauth_slugs: dict[str, list[str]] = {}
    for requirement in ordered:
        if not requirement:
            continue
        oauth = [n for n in requirement if known[n].get("type") in OAUTH_TYPES]
        if oauth:
            slugs: list[str] = []
            for name in oauth:
                if name not in oauth_slugs:
                    made = oauth_templates(name, known[name], base_url)
                    if not made:
                        warnings.append(
                            f"security scheme {name!r} has no usable flow (an OAuth2 flow needs "
                            "its URLs, OpenID Connect its openIdConnectUrl)"
                        )
                    oauth_slugs[name] = [t.slug or "" for t in made]
                    templates.extend(made)
                slugs.extend(oauth_slugs[name])
            by_requirement[frozenset(requirement)] = slugs
            continue
        found = [p for p in (placement(n, known[n]) for n in requirement) if p is not None]
        if not found:
            continue
        if len(found) > 1:
            taken: set[str] = set()
            found = [p.model_copy(update={"variable": _variable(p.name, taken)}) for p in found]
        slug = f"apikey-{index}"
        index += 1
        templates.append(ApiKeyTemplate(slug=slug, placements=found))
        by_requirement[frozenset(requirement)] = [slug]
    return Derived(
        templates=templates, by_requirement=by_requirement, known=known, warnings=warnings
    )
