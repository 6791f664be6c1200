"""`kind: auto` and `spec.auto.url` through one reconcile: detection picks the plugin (or verifies
a pinned kind), the ranked list lands in `status.detection`, `Detected` and `URLAllowed` say what
happened. Real servers on loopback, a real SQLite mirror; small test plugins stand in for GraphQL
and MCP so their registration config can be read back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from harness.http import LoopbackServer, Reply
from switchboard.catalog.detecting import Detection, DetectorReport
from switchboard.catalog.registering import detected_config
from switchboard.models.conditions import find
from switchboard.models.detection import DetectionResult
from switchboard.models.integration import Integration
from switchboard.models.records import IntegrationRecord, Registration
from switchboard.plugins.contract import BasePlugin, PluginContext, RegistrationRequest
from switchboard.plugins.openapi import plugin as openapi_plugin
from switchboard.plugins.registry import PluginRegistry
from switchboard.reconcile.detections import verdict
from switchboard.reconcile.integrations import IntegrationOutcome, reconcile_integration
from switchboard.storage.database import open_database
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy
from switchboard.storage.repository import SqlCatalogStore

NOW = datetime(2025, 1, 1, tzinfo=UTC)
SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Pets"},
    "paths": {"/pets": {"get": {"operationId": "listPets", "responses": {"200": {}}}}},
}
JSON = {"content-type": "application/json"}
HTML = {"content-type": "text/html"}


class Claimer(BasePlugin):
    """Detects with a fixed confidence (or not at all, or slowly) and records registrations."""

    def __init__(
        self, id: str, order: int, confidence: str | None = None, delay: float = 0.0
    ) -> None:
        self.id = id
        self.order = order
        self.confidence = confidence
        self.delay = delay
        self.requests: list[RegistrationRequest] = []

    async def detect(self, url: str, ctx: PluginContext) -> DetectionResult | None:
        await asyncio.sleep(self.delay)
        if self.confidence is None:
            return None
        return DetectionResult(
            kind=self.id,
            confidence=self.confidence,  # type: ignore[arg-type]
            endpoint=url,
            name=self.id,
            slug=self.id,
        )

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        self.requests.append(request)
        record = IntegrationRecord(
            tenant=request.tenant,
            slug=request.slug,
            kind=self.id,
            name=request.name or self.id,
            config=dict(request.config),
            spec_hash="h",
        )
        return Registration(record=record)


@pytest.fixture
async def ctx() -> AsyncIterator[PluginContext]:
    http = OutboundClient(OutboundPolicy.from_allow(["127.0.0.0/8", "::1"]))
    yield PluginContext(documents=SourceReader(http=http, max_bytes=64 << 20), http=http)
    await http.aclose()


@pytest.fixture
def store(sqlite_url: str) -> Iterator[SqlCatalogStore]:
    engine = open_database(sqlite_url)
    yield SqlCatalogStore(engine)
    engine.dispose()


def _integration(spec: dict[str, Any], status: dict[str, Any] | None = None) -> Integration:
    body: dict[str, Any] = {
        "metadata": {"name": "found", "namespace": "acme", "generation": 1},
        "spec": spec,
    }
    if status is not None:
        body["status"] = status
    return Integration.model_validate(body)


async def _reconcile(
    resource: Integration,
    registry: PluginRegistry,
    ctx: PluginContext,
    store: SqlCatalogStore,
) -> IntegrationOutcome:
    return await reconcile_integration(
        resource, store=store, registry=registry, ctx=ctx, now=NOW, manifest_hash="m"
    )


def _message(outcome: IntegrationOutcome, type_: str) -> str:
    found = find(outcome.status.conditions, type_)
    assert found is not None, f"no {type_} condition"
    return found.message


def _condition(outcome: IntegrationOutcome, type_: str) -> tuple[str, str] | None:
    found = find(outcome.status.conditions, type_)
    return None if found is None else (found.status, found.reason)


async def test_auto_registers_the_best_result(
    http_server: LoopbackServer, ctx: PluginContext, store: SqlCatalogStore
) -> None:
    http_server.routes["/spec.json"] = Reply(200, orjson.dumps(SPEC), JSON)
    graphql = Claimer("graphql", 30, "low")
    registry = PluginRegistry([openapi_plugin, graphql])
    url = f"{http_server.url}/spec.json"
    outcome = await _reconcile(
        _integration({"kind": "auto", "auto": {"url": url}}), registry, ctx, store
    )
    assert outcome.ready, outcome.status.conditions
    assert outcome.status.kind == "openapi"
    assert [(d.kind, d.confidence) for d in outcome.status.detection or []] == [
        ("openapi", "high"),
        ("graphql", "low"),
    ]
    assert _condition(outcome, "Detected") == ("True", "Detected")
    assert outcome.write is not None
    assert outcome.write.record.config["sourceUrl"] == url
    assert outcome.status.tools is not None and outcome.status.tools.count == 1
    assert graphql.requests == []
    assert len(http_server.requests) == 1  # detection's download served the registration


async def test_a_document_found_by_detection_is_downloaded_once(
    http_server: LoopbackServer, ctx: PluginContext, store: SqlCatalogStore
) -> None:
    http_server.routes["/"] = Reply(200, b"<html>docs</html>", HTML)
    http_server.routes["/openapi.json"] = Reply(200, orjson.dumps(SPEC), JSON)
    registry = PluginRegistry([openapi_plugin])
    resource = _integration({"kind": "auto", "auto": {"url": f"{http_server.url}/"}})
    outcome = await _reconcile(resource, registry, ctx, store)
    assert outcome.ready
    assert outcome.write is not None
    assert outcome.write.record.config["sourceUrl"] == f"{http_server.url}/openapi.json"
    gets = [r.path for r in http_server.requests if r.method == "GET"]
    assert gets.count("/openapi.json") == 1


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("graphql", {"endpoint": "{url}"}),
        ("mcp", {"transport": "remote", "endpoint": "{url}"}),
    ],
)
async def test_auto_builds_the_config_of_the_detected_kind(
    ctx: PluginContext, store: SqlCatalogStore, kind: str, expected: dict[str, str]
) -> None:
    chosen = Claimer(kind, 30, "high")
    registry = PluginRegistry([openapi_plugin, Claimer("other", 40, "medium"), chosen])
    # A refused URL: the OpenAPI detector reports an error, the test plugins still answer.
    url = "https://api.example.com/endpoint"
    outcome = await _reconcile(
        _integration({"kind": "auto", "auto": {"url": url}}), registry, ctx, store
    )
    assert outcome.ready
    assert outcome.status.kind == kind
    config = {k: v.format(url=url) for k, v in expected.items()}
    assert chosen.requests[0].config == config
    assert detected_config(kind, url) == config


async def test_nothing_detected_is_permanent_when_every_detector_answered(
    http_server: LoopbackServer, ctx: PluginContext, store: SqlCatalogStore
) -> None:
    http_server.routes["/page"] = Reply(200, b"<html>hello</html>", HTML)
    registry = PluginRegistry([openapi_plugin, Claimer("graphql", 30)])
    resource = _integration({"kind": "auto", "auto": {"url": f"{http_server.url}/page"}})
    outcome = await _reconcile(resource, registry, ctx, store)
    assert _condition(outcome, "Ready") == ("False", "NothingDetected")
    assert _condition(outcome, "Stalled") == ("True", "NothingDetected")
    assert _condition(outcome, "Detected") == ("False", "NothingDetected")
    assert outcome.status.detection == []
    assert outcome.write is None


async def test_nothing_detected_is_temporary_when_a_detector_timed_out(
    ctx: PluginContext, store: SqlCatalogStore
) -> None:
    ctx.detect_deadline = 0.3
    registry = PluginRegistry([Claimer("slow", 10, "high", delay=30)])
    resource = _integration({"kind": "auto", "auto": {"url": "https://api.example.com/"}})
    outcome = await _reconcile(resource, registry, ctx, store)
    assert _condition(outcome, "Ready") == ("False", "DetectionIncomplete")
    assert _condition(outcome, "Stalled") == ("False", "DetectionIncomplete")
    assert _condition(outcome, "Detected") == ("False", "NothingDetected")
    assert "slow" in _message(outcome, "Detected")


async def test_a_refused_url_sets_url_allowed_false_without_dns_answers(
    http_server: LoopbackServer, store: SqlCatalogStore
) -> None:
    http = OutboundClient(OutboundPolicy())  # loopback not allowed
    ctx = PluginContext(documents=SourceReader(http=http, max_bytes=1 << 20), http=http)
    port = http_server.url.rsplit(":", 1)[1]
    resource = _integration({"kind": "auto", "auto": {"url": f"http://127.1:{port}/spec"}})
    try:
        outcome = await _reconcile(resource, PluginRegistry([openapi_plugin]), ctx, store)
    finally:
        await http.aclose()
    assert _condition(outcome, "URLAllowed") == ("False", "URLNotAllowed")
    assert _condition(outcome, "Ready") == ("False", "URLNotAllowed")
    assert _condition(outcome, "Detected") == ("False", "URLNotAllowed")
    message = _message(outcome, "URLAllowed")
    assert message.startswith("spec.auto.url: ")
    assert "127.0.0.1" not in message  # what the name resolved to stays private
    assert ("Warning", "URLNotAllowed", message) in outcome.events
    assert http_server.requests == []


async def test_url_allowed_on_a_pinned_kind_and_back(
    http_server: LoopbackServer, ctx: PluginContext, store: SqlCatalogStore
) -> None:
    http_server.routes["/spec.json"] = Reply(200, orjson.dumps(SPEC), JSON)
    spec = {"kind": "openapi", "openapi": {"source": {"url": f"{http_server.url}/spec.json"}}}
    refusing = OutboundClient(OutboundPolicy())
    strict = PluginContext(documents=SourceReader(http=refusing, max_bytes=1 << 20), http=refusing)
    registry = PluginRegistry([openapi_plugin])
    try:
        refused = await _reconcile(_integration(spec), registry, strict, store)
    finally:
        await refusing.aclose()
    assert _condition(refused, "URLAllowed") == ("False", "URLNotAllowed")
    assert "spec.openapi.source.url" in _message(refused, "URLAllowed")
    assert _condition(refused, "Detected") is None  # nothing asked for detection
    allowed = await _reconcile(_integration(spec, refused.status.dump()), registry, ctx, store)
    assert _condition(allowed, "URLAllowed") == ("True", "URLAllowed")
    assert allowed.ready


async def test_a_pinned_kind_is_verified_never_overridden(
    http_server: LoopbackServer, ctx: PluginContext, store: SqlCatalogStore
) -> None:
    http_server.routes["/spec.json"] = Reply(200, orjson.dumps(SPEC), JSON)
    graphql = Claimer("graphql", 30)  # does not recognize the URL
    registry = PluginRegistry([openapi_plugin, graphql])
    url = f"{http_server.url}/spec.json"
    spec = {"kind": "graphql", "graphql": {"endpoint": url}, "auto": {"url": url}}
    outcome = await _reconcile(_integration(spec), registry, ctx, store)
    assert outcome.ready
    assert outcome.status.kind == "graphql"  # the user's kind stands
    assert graphql.requests[0].config == {"endpoint": url}
    assert _condition(outcome, "Detected") == ("False", "KindMismatch")
    message = _message(outcome, "Detected")
    assert "openapi (high confidence), not graphql" in message
    assert ("Warning", "KindMismatch", message) in outcome.events
    assert [d.kind for d in outcome.status.detection or []] == ["openapi"]


async def test_a_pinned_kind_that_detection_confirms(
    http_server: LoopbackServer, ctx: PluginContext, store: SqlCatalogStore
) -> None:
    http_server.routes["/spec.json"] = Reply(200, orjson.dumps(SPEC), JSON)
    url = f"{http_server.url}/spec.json"
    spec = {"kind": "openapi", "openapi": {"source": {"url": url}}, "auto": {"url": url}}
    outcome = await _reconcile(_integration(spec), PluginRegistry([openapi_plugin]), ctx, store)
    assert outcome.ready
    assert _condition(outcome, "Detected") == ("True", "Detected")
    assert outcome.write is not None
    assert outcome.write.record.config["sourceUrl"] == url
    assert outcome.events == [e for e in outcome.events if e[0] == "Normal"]


async def test_dropping_spec_auto_drops_the_detection_status(
    ctx: PluginContext, store: SqlCatalogStore
) -> None:
    mcp = Claimer("mcp", 30, "high")
    registry = PluginRegistry([mcp])
    url = "https://mcp.example.com/mcp"
    first = await _reconcile(
        _integration(
            {"kind": "mcp", "mcp": {"transport": "remote", "endpoint": url}, "auto": {"url": url}}
        ),
        registry,
        ctx,
        store,
    )
    assert first.status.detection
    assert _condition(first, "Detected") == ("True", "Detected")
    second = await _reconcile(
        _integration(
            {"kind": "mcp", "mcp": {"transport": "remote", "endpoint": url}}, first.status.dump()
        ),
        registry,
        ctx,
        store,
    )
    assert second.status.detection is None
    assert _condition(second, "Detected") is None


async def test_a_pinned_kind_still_needs_its_configuration(
    http_server: LoopbackServer, ctx: PluginContext, store: SqlCatalogStore
) -> None:
    # Detection verifies a pinned kind; it never fills in for it (the CRD requires spec.<kind>).
    http_server.routes["/spec.json"] = Reply(200, orjson.dumps(SPEC), JSON)
    spec = {"kind": "openapi", "auto": {"url": f"{http_server.url}/spec.json"}}
    outcome = await _reconcile(_integration(spec), PluginRegistry([openapi_plugin]), ctx, store)
    assert _condition(outcome, "Ready") == ("False", "InvalidSpec")
    assert _message(outcome, "Ready") == "spec.openapi: required when kind is 'openapi'"
    assert _condition(outcome, "Detected") == ("True", "Detected")


async def test_auto_without_a_url(ctx: PluginContext, store: SqlCatalogStore) -> None:
    outcome = await _reconcile(
        _integration({"kind": "auto"}), PluginRegistry([openapi_plugin]), ctx, store
    )
    assert _condition(outcome, "Ready") == ("False", "InvalidSpec")
    assert _message(outcome, "Ready") == ("spec.auto: required when kind is 'auto'")
    assert _condition(outcome, "Detected") == ("False", "InvalidSpec")


def _result(kind: str, confidence: str) -> DetectionResult:
    return DetectionResult(
        kind=kind,
        confidence=confidence,  # type: ignore[arg-type]
        endpoint="https://x.example/",
        name=kind,
        slug=kind,
    )


def _detection(*results: tuple[str, str], failed: bool = False) -> Detection:
    reports = [DetectorReport(k, "matched", 0.0, confidence=c) for k, c in results]
    if failed:
        reports.append(DetectorReport("slow", "timeout", 1.0))
    return Detection(
        url="https://x.example/",
        results=[_result(k, c) for k, c in results],
        detectors=reports,
        seconds=0.0,
        deadline=1.0,
    )


@pytest.mark.parametrize(
    ("kind", "detection", "expected"),
    [
        ("auto", _detection(("openapi", "high")), ("True", "Detected")),
        ("auto", _detection(), ("False", "NothingDetected")),
        ("auto", _detection(failed=True), ("False", "NothingDetected")),
        ("openapi", _detection(("openapi", "medium"), ("mcp", "low")), ("True", "Detected")),
        ("mcp", _detection(("openapi", "medium"), ("mcp", "low")), ("False", "KindMismatch")),
        ("mcp", _detection(("graphql", "low"), ("mcp", "low")), ("True", "Detected")),  # a tie
        ("graphql", _detection(("openapi", "high")), ("False", "KindMismatch")),  # not found
        ("graphql", _detection(), ("False", "NothingDetected")),
    ],
)
def test_verdict(kind: str, detection: Detection, expected: tuple[str, str]) -> None:
    state, reason, message = verdict(kind, detection, None)
    assert (state, reason) == expected
    assert message
