"""The detection fan-out: detectors asked in parallel under one deadline, outcomes reported, answers
ranked and normalized. Small test plugins follow the plugin contract; real servers on loopback
stand behind the OpenAPI detector."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from harness.http import LoopbackServer, Reply
from switchboard.catalog.detecting import MAX_URL_LENGTH, detect, normalize_url, rank
from switchboard.catalog.prefetching import PrefetchedDocuments
from switchboard.errors import InvalidSpecError, URLNotAllowedError
from switchboard.models.detection import DetectionResult
from switchboard.models.records import Registration
from switchboard.models.sources import DocumentSource
from switchboard.plugins.contract import BasePlugin, PluginContext, RegistrationRequest
from switchboard.plugins.openapi import plugin as openapi_plugin
from switchboard.plugins.registry import PluginRegistry
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy


class Detector(BasePlugin):
    """A plugin whose detector answers what the test says, after `delay` seconds."""

    def __init__(
        self,
        id: str,
        order: int,
        confidence: str | None = None,
        *,
        delay: float = 0.0,
        raises: Exception | None = None,
        answer: Any = None,
        name: str = "",
        slug: str = "",
        endpoint: str = "",
    ) -> None:
        self.id = id
        self.order = order
        self.confidence = confidence
        self.delay = delay
        self.raises = raises
        self.answer = answer
        self.name = name
        self.slug = slug
        self.endpoint = endpoint
        self.calls = 0

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        raise NotImplementedError

    async def detect(self, url: str, ctx: PluginContext) -> DetectionResult | None:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.raises is not None:
            raise self.raises
        if self.answer is not None:
            return self.answer  # type: ignore[no-any-return]
        if self.confidence is None:
            return None
        return DetectionResult(
            kind=self.id,
            confidence=self.confidence,  # type: ignore[arg-type]
            endpoint=self.endpoint or url,
            name=self.name,
            slug=self.slug,
            evidence={"probe": "test"},
        )


class Stubborn(Detector):
    """Ignores the first cancellation, as badly written plugin code might."""

    async def detect(self, url: str, ctx: PluginContext) -> DetectionResult | None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(5)
        return None


@pytest.fixture
async def ctx() -> AsyncIterator[PluginContext]:
    http = OutboundClient(OutboundPolicy.from_allow(["127.0.0.0/8", "::1"]))
    yield PluginContext(documents=SourceReader(http=http, max_bytes=64 << 20), http=http)
    await http.aclose()


URL = "https://api.example.com/v1"


@pytest.mark.parametrize(
    ("detectors", "expected"),
    [
        # (id, order, confidence) ... → kinds best first
        ([("a", 1, "low"), ("b", 2, "high"), ("c", 3, "medium")], ["b", "c", "a"]),
        ([("a", 1, "high"), ("b", 2, "high")], ["a", "b"]),  # tie: registered first wins
        ([("b", 2, "high"), ("a", 1, "high")], ["a", "b"]),  # registration order, not list order
        ([("z", 1, "medium"), ("a", 5, "medium")], ["z", "a"]),  # order beats the id
        ([("a", 1, "low"), ("b", 2, None), ("c", 3, "low")], ["a", "c"]),  # no-match left out
        ([("a", 1, None)], []),
    ],
)
async def test_ranking(
    ctx: PluginContext, detectors: list[tuple[str, int, str | None]], expected: list[str]
) -> None:
    registry = PluginRegistry(Detector(i, o, c) for i, o, c in detectors)
    detection = await detect(URL, registry, ctx)
    assert [r.kind for r in detection.results] == expected
    assert detection.best is (detection.results[0] if expected else None)


def test_rank_is_pure_and_stable() -> None:
    def result(kind: str, confidence: str) -> DetectionResult:
        return DetectionResult(
            kind=kind,
            confidence=confidence,  # type: ignore[arg-type]
            endpoint=URL,
            name=kind,
            slug=kind,
        )

    results = [result("mcp", "low"), result("graphql", "medium"), result("openapi", "medium")]
    ranked = rank(results, ["openapi", "graphql", "mcp"])
    assert [r.kind for r in ranked] == ["openapi", "graphql", "mcp"]
    assert [r.kind for r in rank(results, [])] == ["graphql", "openapi", "mcp"]  # stable


async def test_detectors_run_in_parallel_under_one_deadline(ctx: PluginContext) -> None:
    registry = PluginRegistry(
        [
            Detector("fast", 1, "low"),
            Detector("slow", 2, "high", delay=0.4),
            Detector("slower", 3, "high", delay=0.4),
            Detector("hangs", 4, "high", delay=60),
        ]
    )
    started = time.perf_counter()
    detection = await detect(URL, registry, ctx, deadline=1.0)
    elapsed = time.perf_counter() - started
    # Sequential would be 0.8 s before the hanging one even starts; parallel is ~the deadline.
    assert 1.0 <= elapsed < 1.5
    assert [r.kind for r in detection.results] == ["slow", "slower", "fast"]
    outcomes = {d.plugin: d.outcome for d in detection.detectors}
    assert outcomes == {
        "fast": "matched",
        "slow": "matched",
        "slower": "matched",
        "hangs": "timeout",
    }
    assert detection.incomplete
    assert detection.deadline == 1.0


async def test_the_deadline_comes_from_the_context(ctx: PluginContext) -> None:
    ctx.detect_deadline = 0.3
    registry = PluginRegistry([Detector("hangs", 1, "high", delay=60)])
    started = time.perf_counter()
    detection = await detect(URL, registry, ctx)
    assert time.perf_counter() - started < 1.0
    assert detection.detectors[0].outcome == "timeout"


async def test_a_detector_that_ignores_cancellation_does_not_hold_the_call(
    ctx: PluginContext,
) -> None:
    registry = PluginRegistry([Stubborn("stubborn", 1), Detector("ok", 2, "low")])
    started = time.perf_counter()
    detection = await detect(URL, registry, ctx, deadline=0.3)
    assert time.perf_counter() - started < 1.0
    assert [(d.plugin, d.outcome) for d in detection.detectors] == [
        ("stubborn", "timeout"),
        ("ok", "matched"),
    ]


@pytest.mark.parametrize(
    ("detector", "error"),
    [
        (Detector("boom", 1, raises=RuntimeError("kaput")), "RuntimeError"),
        (Detector("boom", 1, raises=KeyError("x")), "KeyError"),
        (Detector("boom", 1, answer={"kind": "boom"}), "InvalidResult"),  # not a result
        (  # answering for another plugin's kind
            Detector(
                "boom",
                1,
                answer=DetectionResult(
                    kind="openapi", confidence="high", endpoint=URL, name="x", slug="x"
                ),
            ),
            "InvalidResult",
        ),
        (Detector("boom", 1, "high", endpoint="ftp://elsewhere/"), "InvalidResult"),
    ],
)
async def test_a_failing_detector_is_reported_and_the_others_still_count(
    ctx: PluginContext, detector: Detector, error: str
) -> None:
    registry = PluginRegistry([detector, Detector("fine", 2, "medium")])
    detection = await detect(URL, registry, ctx)
    assert [r.kind for r in detection.results] == ["fine"]
    report = detection.detectors[0]
    assert (report.plugin, report.outcome, report.error) == ("boom", "error", error)
    assert report.message


@pytest.mark.parametrize(
    ("name", "slug", "taken", "expected"),
    [
        ("Swagger Petstore - OpenAPI 3.0", "", (), "swagger_petstore_openapi_3_0"),
        ("Petstore API!", "", (), "petstore_api"),  # no trailing `_` (reference gap 2)
        ("  My API", "", (), "my_api"),  # no leading `_`
        ("Ünïcode API", "", (), "unicode_api"),  # transliterated, not dropped
        ("Petstore", "", ("petstore",), "petstore_2"),
        ("Petstore", "", ("petstore", "petstore_2"), "petstore_3"),
        ("Petstore", "", ("petstore_2",), "petstore"),  # only the base itself is checked first
        ("x", "Custom Slug", ("custom_slug",), "custom_slug_2"),  # the plugin's slug wins
        ("Switchboard", "", (), "switchboard_api"),  # the reserved slug is never suggested
        ("", "", (), "api_example_com"),  # no name: the host
        ("1Password", "", (), "boom_1password"),  # a slug starts with a letter
    ],
)
async def test_slugs_are_normalized_and_unique_in_the_tenant(
    ctx: PluginContext, name: str, slug: str, taken: tuple[str, ...], expected: str
) -> None:
    registry = PluginRegistry([Detector("boom", 1, "high", name=name, slug=slug)])
    detection = await detect(URL, registry, ctx, taken=taken)
    assert detection.results[0].slug == expected


async def test_endpoints_and_names_are_normalized(ctx: PluginContext) -> None:
    registry = PluginRegistry(
        [Detector("a", 1, "high", endpoint="HTTPS://API.Example.COM:443/v1#frag", name=" A ")]
    )
    result = (await detect(URL, registry, ctx)).results[0]
    assert (result.endpoint, result.name) == ("https://api.example.com/v1", "A")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("  https://api.example.com/v1  ", "https://api.example.com/v1"),  # trimmed
        ("HTTP://API.EXAMPLE.COM:80", "http://api.example.com/"),  # default port, empty path
        ("https://api.example.com:8443/x?a=1#top", "https://api.example.com:8443/x?a=1"),
        ("api.example.com/openapi.json", "https://api.example.com/openapi.json"),  # bare host
        ("https://[::1]:8080/mcp", "https://[::1]:8080/mcp"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "error", "fragment"),
    [
        ("https://a.example/" + "a" * (MAX_URL_LENGTH - 18 + 1), URLNotAllowedError, "2,049"),
        ("file:///etc/passwd", URLNotAllowedError, "'file'"),
        ("gopher://a.example:70/_x", URLNotAllowedError, "'gopher'"),
        ("https://user:secret@a.example/", URLNotAllowedError, "credentials"),
        ("   ", InvalidSpecError, "required"),
        ("https://a.example/a b", InvalidSpecError, "whitespace"),
        ("https:///nohost", InvalidSpecError, "no host"),
        ("https://a.example:http/", InvalidSpecError, "port"),
        ("localhost", URLNotAllowedError, "without scheme"),  # not a bare host: no dot
    ],
)
async def test_bad_urls_fail_before_any_detector_runs(
    ctx: PluginContext, url: str, error: type[Exception], fragment: str
) -> None:
    probe = Detector("a", 1, "high")
    with pytest.raises(error) as raised:
        await detect(url, PluginRegistry([probe]), ctx, field="spec.auto.url")
    assert fragment in str(raised.value)
    assert str(raised.value).startswith("spec.auto.url: ")
    assert probe.calls == 0
    if "secret" in url:
        assert "secret" not in str(raised.value)


def test_a_url_of_exactly_2048_characters_is_accepted() -> None:
    url = "https://a.example/" + "a" * (MAX_URL_LENGTH - 18)
    assert len(url) == MAX_URL_LENGTH
    assert normalize_url(url) == url


async def test_a_server_that_never_answers(http_server: LoopbackServer, ctx: PluginContext) -> None:
    http_server.routes["/hang"] = Reply(200, b"{}", delay=30)
    registry = PluginRegistry([openapi_plugin, Detector("quick", 50, "low")])
    started = time.perf_counter()
    detection = await detect(f"{http_server.url}/hang", registry, ctx, deadline=0.5)
    assert time.perf_counter() - started < 1.0
    assert [(d.plugin, d.outcome) for d in detection.detectors] == [
        ("openapi", "timeout"),
        ("quick", "matched"),
    ]


async def test_a_refused_url_is_an_error_not_an_empty_answer(http_server: LoopbackServer) -> None:
    http = OutboundClient(OutboundPolicy())  # loopback not allowed
    ctx = PluginContext(documents=SourceReader(http=http, max_bytes=1 << 20), http=http)
    try:
        with pytest.raises(URLNotAllowedError) as raised:
            await detect(
                f"{http_server.url}/x", PluginRegistry([openapi_plugin]), ctx, field="spec.auto.url"
            )
    finally:
        await http.aclose()
    assert raised.value.field == "spec.auto.url"
    assert http_server.requests == []


async def test_detection_keeps_the_document_for_registration(
    http_server: LoopbackServer, ctx: PluginContext
) -> None:
    spec = {"openapi": "3.0.0", "info": {"title": "Kept"}, "paths": {}}
    http_server.routes["/"] = Reply(200, b"<html></html>", {"content-type": "text/html"})
    http_server.routes["/openapi.json"] = Reply(
        200, orjson.dumps(spec), {"content-type": "application/json", "etag": '"v1"'}
    )
    registry = PluginRegistry([openapi_plugin])
    detection = await detect(f"{http_server.url}/", registry, ctx, keep_documents=True)
    best = detection.best
    assert best is not None
    assert best.endpoint == f"{http_server.url}/openapi.json"
    asked = len(http_server.requests)
    reader = PrefetchedDocuments(ctx.documents, detection.documents)
    document = await reader.read(DocumentSource(url=best.endpoint), field="spec.openapi.source")
    assert orjson.loads(document.body) == spec
    assert document.etag == '"v1"'
    assert len(http_server.requests) == asked  # served from memory, not fetched again


async def test_without_keep_documents_nothing_is_kept(
    http_server: LoopbackServer, ctx: PluginContext
) -> None:
    http_server.routes["/s"] = Reply(200, b'{"openapi":"3.0.0","paths":{}}')
    detection = await detect(f"{http_server.url}/s", PluginRegistry([openapi_plugin]), ctx)
    assert detection.best is not None
    assert detection.documents == {}


async def test_dump_is_plain_json(ctx: PluginContext) -> None:
    registry = PluginRegistry([Detector("a", 1, "high"), Detector("b", 2, raises=ValueError())])
    dumped = (await detect(URL, registry, ctx)).dump()
    orjson.dumps(dumped)
    assert dumped["results"][0]["kind"] == "a"
    assert dumped["detectors"][1] == {
        "plugin": "b",
        "outcome": "error",
        "seconds": dumped["detectors"][1]["seconds"],
        "error": "ValueError",
    }


async def test_plugins_without_a_detector_are_not_asked(ctx: PluginContext) -> None:
    class Plain(BasePlugin):
        id = "plain"

        async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
            raise NotImplementedError

    detection = await detect(URL, PluginRegistry([Plain(), Detector("a", 1, "low")]), ctx)
    assert [d.plugin for d in detection.detectors] == ["a"]
