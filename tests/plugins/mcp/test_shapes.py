"""The shape classifier over recorded responses: every shape of reference cases 40-45, plus the
outage and JSON-RPC-error rules this project adds. Each row says why."""

from __future__ import annotations

import orjson
import pytest

from switchboard.plugins.mcp.challenges import bearer_challenge, parse_challenges
from switchboard.plugins.mcp.shapes import (
    ProbeRecord,
    Recorded,
    Shape,
    Unreached,
    next_step,
    prm_accepts,
    prm_url,
)

URL = "http://host.test/probe"
JSONRPC_RESULT = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "x"}})
JSONRPC_ERROR = orjson.dumps(
    {"jsonrpc": "2.0", "id": 1, "error": {"code": -32001, "message": "no"}}
)
GRAPHQL_ERRORS = orjson.dumps({"errors": [{"message": "Must provide query string."}]})
JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}
PRM_OK = Recorded(
    200, JSON, orjson.dumps({"resource": URL, "authorization_servers": ["http://as.test"]})
)
PRM_OTHER = Recorded(
    200,
    JSON,
    orjson.dumps(
        {"resource": "http://host.test/some-other-api", "authorization_servers": ["http://as"]}
    ),
)
PRM_MISSING = Recorded(404, {"content-type": "text/plain"}, b"not found")


def bearer(value: str, content_type: str = "application/json") -> dict[str, str]:
    return {"www-authenticate": value, "content-type": content_type}


CASES = [
    # (why, record, kind/reason, requires_auth)
    ("40: 200 with a JSON-RPC result", ProbeRecord(post=Recorded(200, JSON, JSONRPC_RESULT)),
     "mcp/jsonrpc", False),
    ("streamable answer as an event stream", ProbeRecord(post=Recorded(200, SSE, b"")),
     "mcp/sse", False),
    ("41: Bearer resource_metadata plus a JSON-RPC error",
     ProbeRecord(post=Recorded(401, bearer('Bearer resource_metadata="http://h/.well-known/x"'),
                               JSONRPC_ERROR)), "mcp/bearer-resource-metadata", True),
    ("41: Bearer error= with a non-JSON-RPC body",
     ProbeRecord(post=Recorded(401, bearer('Bearer error="invalid_request"'),
                               b'{"message":"Unauthorized"}')), "mcp/bearer-error", True),
    ("bare Bearer on an event stream", ProbeRecord(post=Recorded(401, bearer("Bearer", "text/event-stream"))),
     "mcp/bearer-sse", True),
    ("42: bare Bearer with a JSON-RPC error body",
     ProbeRecord(post=Recorded(401, bearer("Bearer"), JSONRPC_ERROR)), "mcp/bearer-jsonrpc", True),
    ("bare Bearer with an RFC 6750 error body",
     ProbeRecord(post=Recorded(401, bearer("Bearer"), b'{"error":"invalid_token"}')),
     "mcp/bearer-rfc6750", True),
    ("42: bare Bearer, empty body, no metadata",
     ProbeRecord(post=Recorded(401, bearer("Bearer")), prm=PRM_MISSING), "not-mcp/auth-required", True),
    ("42: bare Bearer with GraphQL errors is not an OAuth error body",
     ProbeRecord(post=Recorded(401, bearer("Bearer"), GRAPHQL_ERRORS), prm=PRM_MISSING),
     "not-mcp/auth-required", True),
    ("43: no challenge, but RFC 9728 metadata names this endpoint",
     ProbeRecord(post=Recorded(401, JSON, b"{}"), prm=PRM_OK), "mcp/protected-resource-metadata", True),
    ("43: no challenge, metadata about another resource",
     ProbeRecord(post=Recorded(401, JSON, b"{}"), prm=PRM_OTHER), "not-mcp/auth-required", True),
    ("44: POST 405, GET opens an event stream",
     ProbeRecord(post=Recorded(405), get=Recorded(200, SSE)), "mcp/sse-stream", False),
    ("44: POST 405, GET 401 with resource_metadata",
     ProbeRecord(post=Recorded(405), get=Recorded(401, bearer('Bearer resource_metadata="http://x"')) ),
     "mcp/bearer-resource-metadata", True),
    ("45: 2xx JSON that is not JSON-RPC", ProbeRecord(post=Recorded(200, JSON, b'{"ok":true}')),
     "not-mcp/wrong-shape", False),
    ("45: 2xx HTML", ProbeRecord(post=Recorded(200, {"content-type": "text/html"}, b"<html></html>")),
     "not-mcp/wrong-shape", False),
    ("45: 400 with GraphQL errors", ProbeRecord(post=Recorded(400, JSON, GRAPHQL_ERRORS)),
     "not-mcp/wrong-shape", False),
    ("45: 404, and the GET is 404 too", ProbeRecord(post=Recorded(404), get=Recorded(404)),
     "not-mcp/wrong-shape", False),
    ("45: connection refused", ProbeRecord(post=Unreached("ConnectError")), "unreachable/unreachable", False),
    ("a 5xx is an outage, not proof of a wrong shape",
     ProbeRecord(post=Recorded(503, {"content-type": "text/html"}, b"<h1>down</h1>")),
     "unreachable/server-error", False),
    ("a 4xx with a JSON-RPC error is an MCP server refusing the probe's version",
     ProbeRecord(post=Recorded(400, JSON, JSONRPC_ERROR)), "mcp/jsonrpc-error", False),
    ("GET after a 406 is answered with HTML", ProbeRecord(post=Recorded(406), get=Recorded(200, {"content-type": "text/html"})),
     "not-mcp/wrong-shape", False),
    ("GET after a 415 does not connect", ProbeRecord(post=Recorded(415), get=Unreached("ReadTimeout")),
     "unreachable/unreachable", False),
]  # fmt: skip


@pytest.mark.parametrize(("why", "record", "expected", "auth"), CASES, ids=[c[0] for c in CASES])
def test_classifier_table(why: str, record: ProbeRecord, expected: str, auth: bool) -> None:
    shape = next_step(URL, record)
    assert isinstance(shape, Shape), why
    assert f"{shape.kind}/{shape.reason}" == expected, why
    assert shape.requires_auth is auth, why


def test_the_classifier_asks_for_the_get_and_the_metadata_it_needs() -> None:
    assert next_step(URL, ProbeRecord(post=Recorded(405))) == "get"
    assert next_step(URL, ProbeRecord(post=Recorded(401, JSON, b"{}"))) == "prm"
    assert next_step(URL, ProbeRecord(post=Recorded(404), get=Recorded(401))) == "prm"


def test_evidence_names_the_rule_status_and_content_type() -> None:
    shape = next_step(URL, ProbeRecord(post=Recorded(401, bearer('Bearer resource_metadata="m"'))))
    assert isinstance(shape, Shape)
    assert shape.evidence() == {
        "probe": "mcp/bearer-resource-metadata",
        "status": 401,
        "contentType": "application/json",
        "requiresAuth": True,
        "resourceMetadata": "m",
    }


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("http://h/probe", "http://h/.well-known/oauth-protected-resource/probe"),
        ("https://h:8443/a/mcp/", "https://h:8443/.well-known/oauth-protected-resource/a/mcp"),
        ("http://h", "http://h/.well-known/oauth-protected-resource"),
    ],
)
def test_prm_url_inserts_the_path_after_the_well_known_prefix(endpoint: str, expected: str) -> None:
    assert prm_url(endpoint) == expected


@pytest.mark.parametrize(
    ("resource", "accepted"),
    [
        (URL, True),
        ("http://host.test", True),  # a prefix by segments: the whole origin
        ("http://host.test/pro", False),  # a prefix by characters only
        ("https://host.test/probe", False),  # another scheme is another origin
        ("http://other.test/probe", False),
    ],
)
def test_metadata_must_be_about_this_endpoint(resource: str, accepted: bool) -> None:
    body = orjson.dumps({"resource": resource, "authorization_servers": ["http://as"]})
    assert prm_accepts(URL, Recorded(200, JSON, body)) is accepted


def test_metadata_without_authorization_servers_is_not_accepted() -> None:
    body = orjson.dumps({"resource": URL, "authorization_servers": []})
    assert not prm_accepts(URL, Recorded(200, JSON, body))


@pytest.mark.parametrize(
    ("header", "schemes", "params"),
    [
        ("Bearer", ["bearer"], [{}]),
        ('Bearer realm="a", error="invalid_token"', ["bearer"], [{"realm": "a", "error": "invalid_token"}]),
        ('Basic realm="x", Bearer resource_metadata="http://m/x"', ["basic", "bearer"],
         [{"realm": "x"}, {"resource_metadata": "http://m/x"}]),
        ("Negotiate abc==, Bearer", ["negotiate", "bearer"], [{}, {}]),
        ('Bearer error_description="a \\"quoted\\" word"', ["bearer"], [{"error_description": 'a "quoted" word'}]),
        (",,, ", [], []),
    ],
)  # fmt: skip
def test_www_authenticate_parsing(
    header: str, schemes: list[str], params: list[dict[str, str]]
) -> None:
    challenges = parse_challenges(header)
    assert [c.scheme for c in challenges] == schemes
    assert [c.params for c in challenges] == params


def test_no_header_no_bearer() -> None:
    assert bearer_challenge(None) is None
    assert bearer_challenge('Basic realm="x"') is None
