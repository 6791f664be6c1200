"""Discovered OAuth (reference §7.4): a document that declares no OAuth2 scheme, but whose hosts
publish RFC 9728 / RFC 8414 metadata, gains the authorization-code template
`oauth-DiscoveredOAuth2`. Opt-in (`spec.openapi.oauthDiscovery`), every host asked at once under
one deadline, and never a reason to fail a registration: what was asked is kept as evidence."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from switchboard.models.auth import OAuth2Template
from switchboard.models.integration import OpenApiSpec
from switchboard.plugins.contract import HttpClient
from switchboard.plugins.oauthmeta import (
    PRM_PATH,
    MetadataFetcher,
    OAuthFacts,
    discover,
    origin,
    resource_metadata_url,
)
from switchboard.plugins.openapi.securing import (
    IDENTITY_SCOPES,
    OAUTH_TYPES,
    Derived,
    oauth_templates,
)
from switchboard.plugins.openapi.servers import Server, server_url

DEADLINE = 5.0
"""Seconds for all probing of one registration: metadata answers in milliseconds when it exists,
and a host that hangs must not hold a registration for the reference's 20 s."""
SCHEME = "DiscoveredOAuth2"
SLUG = f"oauth-{SCHEME}"
MAX_CANDIDATES = 8
"""A document listing many regional servers must not turn one registration into a crawl."""
SCOPED_TYPES = frozenset({"http", "apiKey"})
"""Schemes whose requirement scopes (OpenAPI 3.1 roles) name what an OAuth token should carry."""
RETRIED = "inconclusive"
"""The outcome that a later registration of the same spec probes again (an outage, a deadline);
found, absent and unusable are answers and are kept with the compiled spec."""


def wanted(spec: OpenApiSpec) -> bool:
    """Opted in, and the derived templates are not thrown away by declared ones."""
    declared = spec.authentication_template
    replaced = declared is not None and (not declared or spec.authentication_mode == "replace")
    return bool(spec.oauth_discovery) and not replaced


def skipped(spec: OpenApiSpec) -> dict[str, Any] | None:
    """The evidence for an opted-in registration that did not probe because of what it declares."""
    if not spec.oauth_discovery or wanted(spec):
        return None
    if not spec.authentication_template:
        reason = "an empty authenticationTemplate means the API needs no auth"
    else:
        reason = "the declared templates replace the derived ones"
    return {"outcome": "skipped", "reason": reason}


def retry(evidence: object) -> bool:
    return isinstance(evidence, dict) and evidence.get("outcome") == RETRIED


def _clean(url: str) -> str | None:
    """`scheme://host[:port]/path` of an http(s) URL (no credentials, query or fragment)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or "{" in url:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def candidates(base_url: str | None, servers: list[Server], source_url: str | None) -> list[str]:
    """The reference's order: baseUrl, each server (variables at their defaults), the spec's
    URL; each followed by its origin; http(s) only, each once."""
    out: dict[str, None] = {}
    for raw in [base_url, *(server_url(s) for s in servers), source_url]:
        url = _clean(raw) if raw else None
        if url is not None:
            out.setdefault(url)
            out.setdefault(origin(url))
    return list(out)[:MAX_CANDIDATES]


def requested_scopes(known: Mapping[str, Any], securities: Iterable[Any]) -> list[str]:
    """Scopes named by requirements on http and apiKey schemes (document and operations)."""
    seen: dict[str, None] = {}
    for security in securities:
        for requirement in security if isinstance(security, list) else []:
            if not isinstance(requirement, dict):
                continue
            for name, scopes in requirement.items():
                scheme = known.get(str(name))
                if not isinstance(scheme, dict) or scheme.get("type") not in SCOPED_TYPES:
                    continue
                for scope in scopes if isinstance(scopes, list) else []:
                    if isinstance(scope, str) and scope.strip():
                        seen.setdefault(scope.strip())
    return list(seen)


def make_template(facts: OAuthFacts, requested: list[str]) -> OAuth2Template | None:
    """An authorization-code template from what the metadata said, or None when it did not
    name both endpoints. Scopes (identity ones included) are kept to those the authorization
    server lists, when it lists any."""
    if not facts.metadata_url or not facts.authorization_endpoint or not facts.token_endpoint:
        return None
    wanted_scopes = requested + [s for s in IDENTITY_SCOPES if s not in requested]
    supported = set(facts.server_scopes or facts.scopes)
    return OAuth2Template(
        slug=SLUG,
        label=f"OAuth2 Authorization Code · {SCHEME}",
        flow="authorizationCode",
        authorization_url=facts.authorization_endpoint,
        token_url=facts.token_endpoint,
        resource=facts.resource,
        scopes=[s for s in wanted_scopes if s in supported] if supported else wanted_scopes,
        discovery_url=facts.metadata_url,
        registration_endpoint=facts.registration_endpoint,
        supports_dynamic_registration=facts.supports_dynamic_registration,
        supports_client_id_metadata_document=facts.client_id_metadata_document,
    )


@dataclass
class Discovery:
    template: OAuth2Template | None
    evidence: dict[str, Any]
    """For `status.details.oauthDiscovery`: the outcome and what was asked and answered."""


async def _probe(fetcher: MetadataFetcher, url: str) -> OAuthFacts:
    return await discover(
        fetcher,
        url,
        resource_metadata_urls=[resource_metadata_url(url), f"{origin(url)}{PRM_PATH}"],
        fallback_issuer=url,  # the reference's `authorization_servers[0] ?? url`
    )


def _settled(tasks: list[asyncio.Task[OAuthFacts]], requested: list[str]) -> bool:
    """Whether the winner is known: every candidate answered, or one made a template and every
    candidate before it has answered (a later one cannot win any more)."""
    for task in tasks:
        if not task.done():
            return False
        if make_template(task.result(), requested) is not None:
            return True
    return True


async def probe(
    http: HttpClient, urls: list[str], requested: list[str], *, deadline: float
) -> Discovery:
    """Every candidate at once (shared well-known documents fetched once); the first candidate
    in order whose metadata makes a template wins, among those answered within `deadline`.
    Waiting stops as soon as the winner is known, so a hanging later host costs nothing."""
    if not urls:
        return Discovery(None, {"outcome": "absent", "reason": "no http(s) URL to ask"})
    loop = asyncio.get_running_loop()
    stop = loop.time() + deadline
    fetcher = MetadataFetcher(http, timeout=deadline)
    tasks = [asyncio.create_task(_probe(fetcher, url)) for url in urls]
    pending: set[asyncio.Task[OAuthFacts]] = set(tasks)
    try:
        while pending and not _settled(tasks, requested) and loop.time() < stop:
            _, pending = await asyncio.wait(
                pending, timeout=stop - loop.time(), return_when=asyncio.FIRST_COMPLETED
            )
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await fetcher.close()
    evidence: dict[str, Any] = {"candidates": urls}
    unusable = False
    for url, task in zip(urls, tasks, strict=True):
        if task.cancelled():
            continue
        facts = task.result()
        template = make_template(facts, requested)
        if template is not None:
            evidence.update(outcome="found", template=SLUG, candidate=url)
            if facts.resource_metadata_url:
                evidence["resourceMetadata"] = facts.resource_metadata_url
            evidence["authorizationServerMetadata"] = facts.metadata_url
            return Discovery(template, evidence)
        unusable = unusable or facts.metadata_url is not None
    if pending or fetcher.transient:
        evidence["outcome"] = RETRIED
        if pending:
            evidence["reason"] = f"not every host answered within {deadline:g} s"
    elif unusable:
        evidence["outcome"] = "unusable"
        evidence["reason"] = "the metadata names no authorization and token endpoints"
    else:
        evidence["outcome"] = "absent"
    evidence["answers"] = dict(sorted(fetcher.answers.items()))
    return Discovery(None, evidence)


async def enrich(
    derived: Derived,
    http: HttpClient,
    urls: list[str],
    securities: Iterable[Any],
    *,
    deadline: float,
) -> dict[str, Any]:
    """Probe when the document declares no OAuth2; a discovered template joins `derived` as an
    alternative wherever an http or apiKey credential is accepted. Returns the evidence."""
    declares = any(
        oauth_templates(name, scheme, None)
        for name, scheme in derived.known.items()
        if scheme.get("type") in OAUTH_TYPES
    )
    if declares:  # a usable scheme, required or not: the reference's "OAuth2 presets"
        return {"outcome": "not-needed", "reason": "the document declares OAuth2"}
    requested = requested_scopes(derived.known, securities)
    found = await probe(http, urls, requested, deadline=deadline)
    if found.template is not None:
        derived.add_alternative(found.template)
    return found.evidence
