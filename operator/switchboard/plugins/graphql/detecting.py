"""The GraphQL detector: `high` when a small introspection probe answers with a schema, `medium`
when the endpoint answers GraphQL-shaped errors (introspection disabled, auth required), `low` when
only the URL says `graphql`, else nothing. Never raises: a failed probe is evidence."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import orjson

from switchboard.errors import SwitchboardError
from switchboard.models.detection import Confidence, DetectionResult
from switchboard.plugins.contract import HttpResponse, PluginContext
from switchboard.plugins.graphql.snapshots import first_line, graphql_errors

PROBE = "introspection"
PROBE_BODY = orjson.dumps(
    {
        "query": "query SwitchboardDetect { __schema { queryType { name } } }",
        "operationName": "SwitchboardDetect",
    }
)
"""Asks for two names, not the whole schema: a 40 MB introspection answer is for registration."""
PROBE_MAX_BYTES = 1024 * 1024
TOKEN = re.compile(r"(?:^|[^a-z0-9])graphql(?:$|[^a-z0-9])", re.IGNORECASE)
"""Reference §4.4: the token bounded by non-alphanumerics (`/graphqlite` is not a match)."""
_NON_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_MAX = 63
FALLBACK = "graphql"


def slug_from_host(host: str) -> str:
    """`api.github.com` → `api_github_com`; trimmed (unlike the reference's `_1_` for `[::1]`),
    starting with a letter, within the slug length; `graphql` when nothing is left. Core
    de-duplicates it within the tenant."""
    slug = _NON_SLUG.sub("_", host.lower()).strip("_")
    if not slug:
        return FALLBACK
    if not slug[0].isalpha():
        slug = f"{FALLBACK}_{slug}"
    slug = slug[:SLUG_MAX].rstrip("_")
    return f"{slug}_{FALLBACK}" if slug == "switchboard" else slug


def has_token(url: str) -> bool:
    parts = urlsplit(url)
    return bool(TOKEN.search(parts.hostname or "") or TOKEN.search(parts.path))


def _document(response: HttpResponse) -> object:
    try:
        return orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return None


def judge(response: HttpResponse) -> tuple[Confidence | None, dict[str, Any]]:
    """The confidence a probe answer supports, with what was seen."""
    evidence: dict[str, Any] = {
        "probe": PROBE,
        "status": response.status,
        "contentType": response.content_type or None,
    }
    document = _document(response)
    data = document.get("data") if isinstance(document, dict) else None
    schema = data.get("__schema") if isinstance(data, dict) else None
    if response.status == 200 and isinstance(schema, dict) and not graphql_errors(document):
        query = schema.get("queryType")
        if isinstance(query, dict) and isinstance(query.get("name"), str):
            evidence["queryType"] = query["name"]
        return "high", evidence
    messages = graphql_errors(document)
    if messages:
        evidence["error"] = first_line(messages[0], 160)
        return "medium", evidence
    return None, evidence


async def detect(url: str, ctx: PluginContext) -> DetectionResult | None:
    """Probe `url` as a GraphQL endpoint within the detection deadline."""
    trimmed = url.strip()
    parts = urlsplit(trimmed)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    confidence: Confidence | None
    try:
        response = await ctx.http.request(
            "POST",
            trimmed,
            headers={"content-type": "application/json", "accept": "application/json"},
            content=PROBE_BODY,
            max_bytes=PROBE_MAX_BYTES,
            timeout=ctx.detect_deadline,
        )
    except SwitchboardError as exc:
        confidence, evidence = None, {"probe": PROBE, "error": exc.reason}
    else:
        confidence, evidence = judge(response)
    if confidence is None and has_token(trimmed):
        confidence, evidence = "low", {**evidence, "urlToken": FALLBACK}
    if confidence is None:
        return None
    return DetectionResult(
        kind="graphql",
        confidence=confidence,
        endpoint=trimmed,
        name=parts.hostname,
        slug=slug_from_host(parts.hostname),
        evidence=evidence,
    )
