"""Auth templates derived from `securitySchemes` + `security` (reference §7.3, gaps fixed:
apiKey in query/cookie and other http schemes get placements that are actually sent, every OAuth2
flow gets its own slug, openIdConnect is kept with its discovery URL)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from switchboard.errors import SpecParseError
from switchboard.models.auth import (
    ApiKeyTemplate,
    AuthPlacement,
    NoneTemplate,
    OAuth2Template,
)
from switchboard.plugins.openapi.refs import deref

IDENTITY_SCOPES = ("openid", "email", "profile")
FLOW_ORDER = ("authorizationCode", "clientCredentials", "implicit", "password")
KNOWN_TYPES = {"http", "apiKey", "oauth2", "openIdConnect"}

Template = NoneTemplate | ApiKeyTemplate | OAuth2Template


def _schemes(document: dict[str, Any], field: str) -> dict[str, dict[str, Any]]:
    components = document.get("components")
    raw = components.get("securitySchemes") if isinstance(components, dict) else None
    if raw is None:  # Swagger 2.0 keeps them at the top
        raw = document.get("securityDefinitions")
    if not isinstance(raw, dict):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name, scheme in raw.items():
        try:
            resolved = deref(document, scheme, field=f"{field}.securitySchemes.{name}")
        except SpecParseError:
            continue
        if isinstance(resolved, dict) and resolved.get("type") in KNOWN_TYPES | {"basic"}:
            out[str(name)] = resolved
    return out


def _strategies(document: dict[str, Any], schemes: dict[str, dict[str, Any]]) -> list[list[str]]:
    security = document.get("security")
    if isinstance(security, list):
        out = []
        for requirement in security:
            if isinstance(requirement, dict):
                names = [str(n) for n in requirement if str(n) in schemes]
                if names or not requirement:
                    out.append(names)
        return out
    return [[name] for name in schemes]


def _variable(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "input"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}_{n}", n + 1
    taken.add(slug)
    return slug


def _placement(name: str, scheme: dict[str, Any]) -> tuple[AuthPlacement, str] | None:
    kind = scheme.get("type")
    if kind == "basic":  # Swagger 2.0
        return AuthPlacement(carrier="header", name="Authorization", prefix="Basic "), "Basic Auth"
    if kind == "http":
        http_scheme = str(scheme.get("scheme", "")).strip().lower()
        if http_scheme == "bearer":
            return (
                AuthPlacement(carrier="header", name="Authorization", prefix="Bearer "),
                "Bearer Token",
            )
        if http_scheme == "basic":
            return (
                AuthPlacement(carrier="header", name="Authorization", prefix="Basic "),
                "Basic Auth",
            )
        word = http_scheme.capitalize() or "Token"
        return (
            AuthPlacement(carrier="header", name="Authorization", prefix=f"{word} "),
            f"{word} ({name})",
        )
    if kind == "apiKey":
        where = scheme.get("in")
        key = str(scheme.get("name") or name)
        if where == "header":
            return AuthPlacement(carrier="header", name=key), name
        if where == "query":
            return AuthPlacement(carrier="query", name=key), f"{name} (query)"
        if where == "cookie":
            return AuthPlacement(carrier="cookie", name=key), f"{name} (cookie)"
    return None


def _oauth_templates(
    name: str, scheme: dict[str, Any], base_url: str | None
) -> list[OAuth2Template]:
    def absolute(url: object) -> str | None:
        if not isinstance(url, str) or not url:
            return None
        return urljoin(base_url, url) if base_url else url

    if scheme.get("type") == "openIdConnect":
        return [
            OAuth2Template(
                slug=f"oauth-{name}",
                discovery_url=absolute(scheme.get("openIdConnectUrl")),
            )
        ]
    flows = scheme.get("flows")
    if not isinstance(flows, dict):  # Swagger 2.0: one flow on the scheme itself
        swagger_flow = {
            "accessCode": "authorizationCode",
            "application": "clientCredentials",
            "implicit": "implicit",
            "password": "password",
        }.get(str(scheme.get("flow")))
        flows = {swagger_flow: scheme} if swagger_flow else {}
    out: list[OAuth2Template] = []
    for flow in FLOW_ORDER:
        spec = flows.get(flow)
        if not isinstance(spec, dict):
            continue
        auth_url = absolute(spec.get("authorizationUrl"))
        token_url = absolute(spec.get("tokenUrl"))
        needs_auth = flow in ("authorizationCode", "implicit")
        needs_token = flow in ("authorizationCode", "clientCredentials", "password")
        if (needs_auth and not auth_url) or (needs_token and not token_url):
            continue
        declared = spec.get("scopes")
        scopes = [str(s) for s in declared] if isinstance(declared, dict) else []
        if needs_auth:
            scopes += [s for s in IDENTITY_SCOPES if s not in scopes]
        slug = f"oauth-{name}" if not out else f"oauth-{name}-{flow}"
        out.append(
            OAuth2Template(
                slug=slug,
                flow=flow,
                authorization_url=auth_url,
                token_url=token_url,
                refresh_url=absolute(spec.get("refreshUrl")),
                scopes=scopes,
            )
        )
    return out


def derive_templates(
    document: dict[str, Any], *, base_url: str | None, field: str
) -> list[Template]:
    """Auth templates for the document: one apikey template per non-OAuth strategy (`apikey-N`),
    then one OAuth2 template per scheme and flow; `none` when the API declares no security."""
    schemes = _schemes(document, field)
    strategies = _strategies(document, schemes)
    templates: list[Template] = []
    public = not schemes or any(not s for s in strategies)
    index = 0
    for strategy in strategies:
        if not strategy:
            continue
        if any(schemes[n].get("type") in ("oauth2", "openIdConnect") for n in strategy):
            continue
        found = [p for p in (_placement(n, schemes[n]) for n in strategy) if p is not None]
        if not found:
            continue
        placements = [p for p, _ in found]
        if len(placements) > 1:
            taken: set[str] = set()
            placements = [
                p.model_copy(update={"variable": _variable(p.name, taken)}) for p in placements
            ]
        # No label: descriptors then read "API key (<first placement>)", as the reference does.
        templates.append(ApiKeyTemplate(slug=f"apikey-{index}", placements=placements))
        index += 1
    oauth_names = [n for s in strategies for n in s] if strategies else list(schemes)
    for name in dict.fromkeys(oauth_names):
        if schemes[name].get("type") in ("oauth2", "openIdConnect"):
            templates.extend(_oauth_templates(name, schemes[name], base_url))
    if public:
        templates.insert(0, NoneTemplate(slug="none"))
    return templates
