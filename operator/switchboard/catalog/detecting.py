"""Detection fan-out: every plugin's detector asked about one URL in parallel under one deadline;
answers ranked (high > medium > low, ties by registration order), endpoints and slugs normalized,
and every detector's outcome reported (matched, no-match, timeout, error)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from switchboard.catalog.prefetching import RecordingHttp
from switchboard.catalog.slugs import slugify, unique_slug
from switchboard.errors import InvalidSpecError, URLNotAllowedError
from switchboard.models.detection import CONFIDENCE_RANK, DetectionResult
from switchboard.plugins.contract import BasePlugin, HttpResponse, Plugin, PluginContext
from switchboard.plugins.registry import PluginRegistry

MAX_URL_LENGTH = 2048
CANCEL_GRACE = 0.25
"""Seconds a cancelled detector gets to unwind before the call returns without it."""
MESSAGE_LIMIT = 200
_DEFAULT_PORTS = {"http": 80, "https": 443}
_BARE_HOST = re.compile(r"^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}(:\d+)?(/.*)?$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")

Outcome = Literal["matched", "no-match", "timeout", "error"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetectorReport:
    """How one detector fared."""

    plugin: str
    outcome: Outcome
    seconds: float
    confidence: str | None = None
    error: str | None = None
    """The exception class, for `error`."""
    message: str | None = None

    def dump(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass
class Detection:
    """The ranked answers for one URL and how every detector fared."""

    url: str
    results: list[DetectionResult]
    detectors: list[DetectorReport]
    seconds: float
    deadline: float
    documents: dict[str, HttpResponse] = field(default_factory=dict, repr=False)
    """GET answers the detectors read (only with `keep_documents`), so registration can use
    the document detection already downloaded instead of fetching it again."""

    @property
    def best(self) -> DetectionResult | None:
        return self.results[0] if self.results else None

    @property
    def incomplete(self) -> bool:
        """Some detector could not answer (timeout or error): a retry may find more."""
        return any(r.outcome in ("timeout", "error") for r in self.detectors)

    def result_for(self, kind: str) -> DetectionResult | None:
        return next((r for r in self.results if r.kind == kind), None)

    def dump(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "deadline": self.deadline,
            "seconds": round(self.seconds, 3),
            "results": [r.dump() for r in self.results],
            "detectors": [d.dump() for d in self.detectors],
        }


def normalize_url(url: str, *, field: str = "url") -> str:
    """The URL as detection uses it: trimmed, at most 2,048 characters, http or https, no
    credentials; a bare host name (`api.example.com/v1`) gets `https://`. Errors name `field`."""
    text = url.strip()
    if not text:
        raise InvalidSpecError("a URL is required", field=field)
    if len(text) > MAX_URL_LENGTH:
        raise URLNotAllowedError(
            f"the URL is {len(text):,} characters long; at most {MAX_URL_LENGTH:,} are accepted",
            field=field,
        )
    if "://" not in text and _BARE_HOST.match(text):
        text = f"https://{text}"
    if _CONTROL.search(text):
        raise InvalidSpecError("the URL contains whitespace or control characters", field=field)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise URLNotAllowedError(
            f"only http and https URLs can be detected, not {scheme or 'a URL without scheme'!r}",
            field=field,
        )
    if "@" in parts.netloc:
        raise URLNotAllowedError(
            "URLs with embedded credentials are refused; declare a Connection instead",
            field=field,
        )
    try:
        port = parts.port
    except ValueError:
        raise InvalidSpecError("the URL has an invalid port", field=field) from None
    if not parts.hostname:
        raise InvalidSpecError("the URL has no host", field=field)
    if len(text) > MAX_URL_LENGTH:  # the added scheme can push a bare host over the limit
        raise URLNotAllowedError(f"the URL is over {MAX_URL_LENGTH:,} characters", field=field)
    return _unsplit(scheme, parts.hostname, port, parts.path, parts.query)


def normalize_endpoint(url: str) -> str | None:
    """An endpoint a detector reported, normalized like input URLs; None if it is not one."""
    try:
        return normalize_url(url)
    except (InvalidSpecError, URLNotAllowedError):
        return None


def _unsplit(scheme: str, host: str, port: int | None, path: str, query: str) -> str:
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, path or "/", query, ""))


def rank(results: Sequence[DetectionResult], order: Sequence[str]) -> list[DetectionResult]:
    """high > medium > low; equal confidences keep plugin registration order."""
    position = {kind: i for i, kind in enumerate(order)}
    return sorted(
        results,
        key=lambda r: (-CONFIDENCE_RANK[r.confidence], position.get(r.kind, len(position))),
    )


def finish(result: DetectionResult, url: str, taken: Collection[str]) -> DetectionResult:
    """A plugin's answer with a normalized endpoint, a name, and a slug free in the tenant."""
    endpoint = normalize_endpoint(result.endpoint) if result.endpoint else url
    if endpoint is None:
        raise ValueError(f"endpoint {result.endpoint[:80]!r} is not an http(s) URL")
    host = urlsplit(endpoint).hostname or ""
    name = result.name.strip() or host
    base = slugify(result.slug or name, fallback=result.kind)
    return result.model_copy(
        update={"endpoint": endpoint, "name": name, "slug": unique_slug(base, taken)}
    )


def has_detector(plugin: Plugin) -> bool:
    """A plugin that overrides `BasePlugin.detect` (or does not derive from it) has a detector."""
    return getattr(type(plugin), "detect", None) is not BasePlugin.detect


@dataclass
class _Answer:
    result: object
    """What the detector returned: a DetectionResult or None, unless the plugin is broken."""
    seconds: float
    error: BaseException | None = None


async def _ask(plugin: Plugin, url: str, ctx: PluginContext) -> _Answer:
    started = time.perf_counter()
    try:
        result = await plugin.detect(url, ctx)
    # A detector is plugin code and may raise anything; one failure must not fail the call,
    # so it is reported by class (and logged with its traceback) instead.
    except Exception as exc:
        log.debug("detector %s failed", plugin.id, exc_info=True)
        return _Answer(None, time.perf_counter() - started, exc)
    return _Answer(result, time.perf_counter() - started)


def _report(
    plugin: Plugin, answer: _Answer, url: str, taken: Collection[str]
) -> tuple[DetectorReport, DetectionResult | None]:
    seconds = round(answer.seconds, 3)
    if answer.error is not None:
        message = str(answer.error)[:MESSAGE_LIMIT] or None
        error = type(answer.error).__name__
        return DetectorReport(plugin.id, "error", seconds, error=error, message=message), None
    if answer.result is None:
        return DetectorReport(plugin.id, "no-match", seconds), None
    problem = None
    if not isinstance(answer.result, DetectionResult):
        problem = f"detect returned {type(answer.result).__name__}, not a DetectionResult"
    elif answer.result.kind != plugin.id:
        problem = f"detect answered for kind {answer.result.kind!r}"
    else:
        try:
            finished = finish(answer.result, url, taken)
        except ValueError as exc:
            problem = str(exc)
    if problem is not None:
        return DetectorReport(
            plugin.id, "error", seconds, error="InvalidResult", message=problem
        ), None
    confidence = finished.confidence
    return DetectorReport(plugin.id, "matched", seconds, confidence=confidence), finished


async def detect(
    url: str,
    registry: PluginRegistry,
    ctx: PluginContext,
    *,
    taken: Collection[str] = (),
    deadline: float | None = None,
    field: str = "url",
    keep_documents: bool = False,
) -> Detection:
    """Ask every plugin about `url` at once and return within `deadline` (default: the context's
    `detect_deadline`). A slow or failing detector is reported, never raised; the call itself
    raises only for a URL that cannot be detected (shape, scheme, length, credentials), or when
    nothing matched because the outbound policy refused the URL."""
    target = normalize_url(url, field=field)
    limit = deadline if deadline is not None else ctx.detect_deadline
    recorder = RecordingHttp(ctx.http, budget=ctx.max_spec_bytes) if keep_documents else None
    run_ctx = dataclasses.replace(ctx, http=recorder) if recorder is not None else ctx
    plugins = [p for p in registry if has_detector(p)]
    started = time.perf_counter()
    tasks = [asyncio.create_task(_ask(p, target, run_ctx)) for p in plugins]
    pending: set[asyncio.Task[_Answer]] = set()
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=limit)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=CANCEL_GRACE)
    reports: list[DetectorReport] = []
    results: list[DetectionResult] = []
    for plugin, task in zip(plugins, tasks, strict=True):
        if task in pending:
            reports.append(DetectorReport(plugin.id, "timeout", round(limit, 3)))
            continue
        report, result = _report(plugin, task.result(), target, taken)
        reports.append(report)
        if result is not None:
            results.append(result)
    if not results:
        _raise_refusal(tasks, pending, field)
    return Detection(
        url=target,
        results=rank(results, registry.ids),
        detectors=reports,
        seconds=time.perf_counter() - started,
        deadline=limit,
        documents=recorder.responses if recorder is not None else {},
    )


def _raise_refusal(
    tasks: Sequence[asyncio.Task[_Answer]], pending: Collection[asyncio.Task[_Answer]], field: str
) -> None:
    """Nothing matched because the policy refused the URL: say so, instead of "nothing found"."""
    for task in tasks:
        if task in pending:
            continue
        error = task.result().error
        if isinstance(error, URLNotAllowedError):
            raise URLNotAllowedError(error.detail, field=field) from error
