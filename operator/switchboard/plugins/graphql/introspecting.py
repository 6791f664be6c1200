"""Live introspection: one POST of the standard introspection query, with a connection's rendered
credentials, through the outbound policy; the answer becomes a schema or a typed failure whose
message never carries a credential."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from graphql import get_introspection_query

from switchboard.errors import (
    CredentialsRejectedError,
    FetchError,
    IntrospectionDisabledError,
    PermanentError,
    SpecParseError,
    SwitchboardError,
    TemporaryError,
    URLNotAllowedError,
)
from switchboard.plugins.contract import HttpClient, HttpResponse
from switchboard.plugins.graphql.selecting import DEFAULT_DEPTH
from switchboard.plugins.graphql.snapshots import (
    LoadedSchema,
    build_from_introspection,
    first_line,
    graphql_errors,
    introspection_result,
    no_cyclic_gc,
)
from switchboard.plugins.templates import RenderedAuth

INTROSPECTION_QUERY = get_introspection_query(descriptions=True)
"""The conservative standard query: no newer fields (`specifiedByURL`, `isRepeatable`) that
older servers reject."""
BODY = orjson.dumps({"query": INTROSPECTION_QUERY, "operationName": "IntrospectionQuery"})
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Request:
    """One POST to a GraphQL endpoint, credentials included (never logged, never shown)."""

    url: str
    headers: dict[str, str]
    secrets: tuple[str, ...] = ()
    """Values to scrub from any upstream text quoted in an error."""


def with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added to its query string (later names win)."""
    if not params:
        return url
    parts = urlsplit(url)
    merged = dict(parse_qsl(parts.query, keep_blank_values=True))
    merged.update(params)
    return urlunsplit(parts._replace(query=urlencode(merged)))


def build_request(
    endpoint: str,
    *,
    headers: Mapping[str, str] | None,
    query_params: Mapping[str, str] | None,
    auth: RenderedAuth,
    values: Iterable[str] = (),
) -> Request:
    """Static headers and parameters first, then the credential's placements over them."""
    out = {"content-type": "application/json", "accept": "application/json"}
    out.update({k.lower(): v for k, v in (headers or {}).items()})
    out.update({k.lower(): v for k, v in auth["headers"].items()})
    if auth["cookies"]:
        out["cookie"] = "; ".join(f"{k}={v}" for k, v in auth["cookies"].items())
    url = with_query(endpoint, {**(query_params or {}), **auth["query"]})
    rendered = [*auth["headers"].values(), *auth["query"].values(), *auth["cookies"].values()]
    secrets = tuple(sorted({s for s in [*values, *rendered] if s}, key=len, reverse=True))
    return Request(url=url, headers=out, secrets=secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _quoted(document: object, secrets: Iterable[str]) -> str:
    messages = graphql_errors(document)
    return f": {redact(first_line(messages[0]), secrets)}" if messages else ""


def _json(body: bytes) -> object | None:
    if not body.lstrip().startswith(b"{"):
        return None
    try:
        document: object = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return document


def _has_schema(document: object) -> bool:
    data = document.get("data", document) if isinstance(document, Mapping) else None
    return isinstance(data, Mapping) and isinstance(data.get("__schema"), Mapping)


def classify(
    response: HttpResponse,
    *,
    endpoint: str,
    field: str,
    secrets: Iterable[str] = (),
    depth: int = DEFAULT_DEPTH,
) -> LoadedSchema:
    """The schema in an introspection answer, or the failure it shows: 401/403 rejected
    credentials; GraphQL errors instead of `__schema` disabled introspection; 429, 5xx and broken
    JSON an outage (temporary); anything else not a GraphQL endpoint."""
    status = response.status
    document = _json(response.body)
    if status in (401, 403):
        raise CredentialsRejectedError(
            f"{endpoint} answered {status}{_quoted(document, secrets)}: the connection's "
            "credentials were refused; check the Secret and the template",
            field=field,
        )
    if status == 429 or status >= 500:
        raise FetchError(f"{endpoint} answered {status}", field=field)
    if _has_schema(document):
        introspection, warnings = introspection_result(document, field=field)
        loaded = build_from_introspection(introspection, field=field, depth=depth)
        loaded.warnings.extend(redact(w, secrets) for w in warnings)
        return loaded
    if graphql_errors(document):
        raise IntrospectionDisabledError(
            f"{endpoint} answered {status} with errors instead of a schema"
            f"{_quoted(document, secrets)}; introspection looks disabled: save the schema and "
            "set spec.graphql.introspection",
            field=field,
        )
    if 200 <= status < 300 and "json" in response.content_type and document is None:
        # Declared JSON that does not parse: most often an answer cut short on the way.
        raise FetchError(
            f"{endpoint} answered with broken JSON ({len(response.body):,} bytes; truncated?)",
            field=field,
        )
    shown = response.content_type or "no content type"
    raise SpecParseError(
        f"{endpoint} answered {status} ({shown}), not a GraphQL introspection result: "
        "is this the GraphQL endpoint?",
        field=field,
    )


def _scrubbed(exc: SwitchboardError, secrets: Iterable[str], field: str) -> SwitchboardError:
    """The client's error with credentials scrubbed from its message and the field set."""
    detail = redact(exc.detail, secrets)
    if isinstance(exc, TemporaryError):
        return FetchError(detail, field=field, delay=exc.delay)
    if isinstance(exc, URLNotAllowedError):
        return URLNotAllowedError(detail, field=field)
    scrubbed = PermanentError(detail, field=field)
    scrubbed.reason = exc.reason
    return scrubbed


async def introspect(
    http: HttpClient,
    request: Request,
    *,
    endpoint: str,
    field: str,
    max_bytes: int,
    depth: int = DEFAULT_DEPTH,
) -> LoadedSchema:
    """POST the introspection query and classify the answer (the policy's deadline applies);
    the schema is built for default selections up to `depth` levels."""
    try:
        response = await http.request(
            "POST", request.url, headers=request.headers, content=BODY, max_bytes=max_bytes
        )
    except SwitchboardError as exc:
        # Not chained: the original's text could hold a query-placed credential.
        raise _scrubbed(exc, request.secrets, field) from None
    with no_cyclic_gc():  # the parsed answer dies inside the pause (see snapshots.load_schema)
        return classify(
            response, endpoint=endpoint, field=field, secrets=request.secrets, depth=depth
        )
