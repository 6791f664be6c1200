"""The OpenAPI detector: `high` when the URL itself is an OpenAPI 3.x or Swagger 2.0 document,
`medium` when one is found at a well-known location under it. Locations are checked with HEAD a
few at a time and read in order until the first document, so a large spec is read once."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import orjson

from switchboard.errors import FetchError, SpecParseError, SpecTooLargeError, URLNotAllowedError
from switchboard.models.detection import Confidence, DetectionResult
from switchboard.plugins.contract import HttpResponse, PluginContext
from switchboard.plugins.documents import parse_document

KIND = "openapi"
ACCEPT = "application/json, application/yaml, text/yaml, */*;q=0.5"
WELL_KNOWN = (
    "openapi.json",
    "openapi.yaml",
    "swagger.json",
    "api-docs",
    "v3/api-docs",
    "swagger/v1/swagger.json",
)
"""Relative to the URL (then to the origin): where frameworks publish their document."""
ORIGIN_ONLY = ("/.well-known/openapi",)
WAVE = 4
"""Locations asked at once: a few round trips in all, without a burst of connections per URL."""
FULL_PARSE_LIMIT = 4 * 1024 * 1024
"""YAML larger than this is recognized by its top-level lines instead of parsed: detection must
answer within its deadline, and registration parses the document anyway."""
_OPENAPI_LINE = re.compile(
    rb"""^openapi:[ \t]*["']?(3\.\d+(?:\.\d+)?)["']?[ \t]*(?:#.*)?\r?$""", re.M
)
_SWAGGER_LINE = re.compile(rb"""^swagger:[ \t]*["']?2\.0["']?[ \t]*(?:#.*)?\r?$""", re.M)
_BODY_LINE = re.compile(rb"^(?:paths|info|webhooks):", re.M)
_INFO_BLOCK = re.compile(rb"^info:[ \t]*\r?\n((?:(?:[ \t]+[^\n]*)?\r?\n)*)", re.M)
_TITLE_LINE = re.compile(rb"""^([ \t]+)title:[ \t]*(.+?)[ \t]*\r?$""", re.M)
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Found:
    """An OpenAPI document recognized in a response body."""

    field: Literal["openapi", "swagger"]
    version: str
    title: str | None
    parsed: Literal["full", "sniffed"]


def _from_document(document: object) -> Found | None:
    if not isinstance(document, dict):
        return None
    openapi, swagger = document.get("openapi"), document.get("swagger")
    if isinstance(openapi, str) and openapi.startswith("3."):
        field: Literal["openapi", "swagger"] = "openapi"
        version = openapi
    elif str(swagger) in ("2.0", "2"):  # YAML reads an unquoted `swagger: 2.0` as a float
        field, version = "swagger", "2.0"
    else:
        return None
    if not any(isinstance(document.get(k), dict) for k in ("paths", "info", "webhooks")):
        return None
    info = document.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    clean = title.strip() if isinstance(title, str) else ""
    return Found(field, version, clean or None, "full")


def _sniff_yaml(body: bytes) -> Found | None:
    """Top-level `openapi:`/`swagger:` lines and the `info.title` of a block-style YAML document."""
    openapi = _OPENAPI_LINE.search(body)
    swagger = None if openapi else _SWAGGER_LINE.search(body)
    if (openapi is None and swagger is None) or not _BODY_LINE.search(body):
        return None
    title = None
    info = _INFO_BLOCK.search(body)
    if info is not None:
        lines = sorted(_TITLE_LINE.finditer(info.group(1)), key=lambda m: len(m.group(1)))
        if lines:
            raw = lines[0].group(2).decode("utf-8", "replace").strip()
            title = raw.strip("'\"").strip() or None
    if openapi is not None:
        return Found("openapi", openapi.group(1).decode(), title, "sniffed")
    return Found("swagger", "2.0", title, "sniffed")


def inspect(body: bytes, *, limit: int) -> Found | None:
    """The OpenAPI document in `body`, if it is one. JSON is parsed whole (fast); YAML is parsed
    when small and sniffed when large; anything else (HTML, text) is not a document."""
    head = body.lstrip()[:1]
    if not head or head == b"<":
        return None
    if head in (b"{", b"["):
        try:
            return _from_document(orjson.loads(body))
        except orjson.JSONDecodeError:
            return None
    if len(body) > FULL_PARSE_LIMIT:
        return _sniff_yaml(body)
    try:
        return _from_document(parse_document(body, field="url", limit=limit))
    except (SpecParseError, SpecTooLargeError):
        return None


def candidates(url: str) -> list[str]:
    """Well-known document locations under `url`, then at its origin; in probing order."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.endswith("/"):
        head, _, last = path.rpartition("/")
        path = f"{head}/" if "." in last else f"{path}/"

    def at(p: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, p, "", ""))

    found = [at(path + rel) for rel in WELL_KNOWN]
    found += [at(p) for p in ORIGIN_ONLY]
    found += [at("/" + rel) for rel in WELL_KNOWN]
    return list(dict.fromkeys(u for u in found if u != url))


def _seen(response: HttpResponse) -> dict[str, Any]:
    return {"status": response.status, "contentType": response.content_type or None}


def _judge(response: HttpResponse, ctx: PluginContext) -> Found | None:
    if not 200 <= response.status < 300 or response.content_type == "text/html":
        return None
    return inspect(response.body, limit=ctx.max_spec_bytes)


def _result(
    endpoint: str, confidence: Confidence, found: Found, evidence: dict[str, Any]
) -> DetectionResult:
    host = urlsplit(endpoint).hostname or KIND
    name = found.title or host
    evidence = {**evidence, found.field: found.version, "parsed": found.parsed}
    return DetectionResult(
        kind=KIND,
        confidence=confidence,
        endpoint=endpoint,
        name=name,
        slug=_NON_SLUG.sub("_", name.lower()).strip("_") or KIND,  # core normalizes it further
        evidence=evidence,
    )


async def _get(ctx: PluginContext, url: str) -> HttpResponse:
    return await ctx.http.request(
        "GET", url, headers={"accept": ACCEPT}, max_bytes=ctx.max_spec_bytes
    )


async def _worth_reading(ctx: PluginContext, url: str) -> bool:
    """A HEAD says whether a location may hold a document: missing, forbidden or an HTML page
    is not worth a GET; a server that does not answer HEAD properly gets the GET anyway."""
    try:
        response = await ctx.http.request("HEAD", url, headers={"accept": ACCEPT})
    except (FetchError, URLNotAllowedError):
        return False
    if response.status in (404, 410, 401, 403) or response.content_type == "text/html":
        return False
    return response.status < 300 or response.status in (405, 501)


async def detect_openapi(url: str, ctx: PluginContext) -> DetectionResult | None:
    """Whether `url` is, or leads to, an OpenAPI document. A refused or unreachable URL raises
    (the fan-out reports it). Well-known locations are asked with HEAD a wave at a time, and the
    promising ones read with GET in order until the first document: a few round trips for the
    misses, and never two downloads of the same spec."""
    first = await _get(ctx, url)
    found = _judge(first, ctx)
    if found is not None:
        evidence = {"probe": "url", **_seen(first), "bytes": len(first.body)}
        return _result(url, "high", found, evidence)
    probes = candidates(url)
    for start in range(0, len(probes), WAVE):
        wave = probes[start : start + WAVE]
        worth = await asyncio.gather(*(_worth_reading(ctx, c) for c in wave))
        for candidate in (c for c, ok in zip(wave, worth, strict=True) if ok):
            try:
                response = await _get(ctx, candidate)
            except (FetchError, URLNotAllowedError):
                continue  # a location that redirects somewhere refused is only a miss
            found = _judge(response, ctx)
            if found is None:
                continue
            evidence = {
                "probe": urlsplit(candidate).path,
                **_seen(response),
                "bytes": len(response.body),
                "urlResponse": _seen(first),
                "probesTried": start + len(wave),
            }
            return _result(candidate, "medium", found, evidence)
    return None
