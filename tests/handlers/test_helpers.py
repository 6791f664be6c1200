"""Pure pieces of cluster mode, table-driven: status merge patches, refresh timing, what the
webhook judges without I/O, ConfigMap references, and the webhook configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from switchboard.handlers.admission import file_sources
from switchboard.handlers.integrations import next_refresh
from switchboard.handlers.objects import invalid_spec, refresh_requested
from switchboard.handlers.reconciling import config_map_names
from switchboard.handlers.webhooks import chart_entries, validating_configuration
from switchboard.models.integration import IntegrationSpec
from switchboard.models.meta import ObjectMeta
from switchboard.storage.kubernetes import merge_patch

PATCHES = [
    ({"a": 1}, {"a": 1}, {}, "nothing changed: no request at all"),
    (None, {"a": 1}, {"a": 1}, "no status yet: everything"),
    ({"a": 1, "b": 2}, {"a": 1}, {"b": None}, "a field that went away is nulled"),
    ({"t": {"x": 1, "y": 2}}, {"t": {"x": 1, "y": 3}}, {"t": {"y": 3}}, "nested: only the change"),
    ({"c": [1, 2]}, {"c": [2]}, {"c": [2]}, "lists are replaced whole"),
    ({"t": {"x": 1}}, {"t": 5}, {"t": 5}, "an object replaced by a scalar"),
]


@pytest.mark.parametrize(("old", "new", "patch", "why"), PATCHES, ids=[p[3] for p in PATCHES])
def test_merge_patch(old: Any, new: dict[str, Any], patch: dict[str, Any], why: str) -> None:
    assert merge_patch(old, new) == patch, why


NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last", "interval", "low", "high", "why"),
    [
        (None, 60.0, 0.0, 6.0, "never succeeded: now, within the jitter"),
        ("2026-01-01T11:59:30Z", 60.0, 30.0, 36.0, "half way: the rest of the interval"),
        ("2026-01-01T10:00:00Z", 60.0, 0.0, 6.0, "long overdue: now"),
    ],
)
def test_next_refresh(last: str | None, interval: float, low: float, high: float, why: str) -> None:
    for _ in range(50):
        assert low <= next_refresh(last, interval, 0.1, NOW) <= high, why


def test_refresh_requested_only_once() -> None:
    meta = ObjectMeta(name="x", annotations={"switchboard.dev/refresh-requested-at": "t1"})
    assert refresh_requested(meta, None) == "t1"
    assert refresh_requested(meta, "t0") == "t1"
    assert refresh_requested(meta, "t1") is None, "already handled"
    assert refresh_requested(ObjectMeta(name="x"), None) is None


def test_invalid_spec_names_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        IntegrationSpec.model_validate({"kind": "openapi", "openapi": {"source": {}}})
    error = invalid_spec(caught.value, prefix="spec.")
    assert error.field == "spec.openapi.source"
    assert str(error).startswith("spec.openapi.source: exactly one of file, url, inline")


@pytest.mark.parametrize(
    ("spec", "found"),
    [
        ({"openapi": {"source": {"file": "a.yaml"}}}, ["spec.openapi.source.file"]),
        ({"openapi": {"source": {"inline": "{}"}}}, []),
        (
            {"graphql": {"introspection": {"file": "s.graphql"}}},
            ["spec.graphql.introspection.file"],
        ),
        ({"config": {"docs": [{"file": "x"}]}}, ["spec.config.docs[0].file"]),
        ({"mcp": {"args": ["--file", "x"]}}, []),
        ({"config": {"file": "x", "mode": "fast"}}, []),  # a plugin's setting, not a source
    ],
)
def test_file_sources_are_found_anywhere(spec: dict[str, Any], found: list[str]) -> None:
    assert file_sources(spec) == found


def test_config_map_names_anywhere_in_a_spec() -> None:
    spec = {
        "openapi": {"source": {"configMapRef": {"name": "b", "key": "k"}}},
        "config": {"parts": [{"configMapRef": {"name": "a", "key": "k"}}, {"inline": "x"}]},
        "graphql": {"introspection": {"configMapRef": {"name": "b", "key": "other"}}},
    }
    assert config_map_names(spec) == ["a", "b"]
    assert config_map_names({"openapi": {"source": {"inline": "{}"}}}) == []


def test_the_webhook_configuration_skips_what_needs_no_judgement() -> None:
    body = validating_configuration("switchboard.dev", "https://127.0.0.1:9443", b"PEM")
    hooks = {h["name"]: h for h in body["webhooks"]}
    integrations = hooks["integrations.switchboard.dev"]
    assert integrations["clientConfig"]["url"] == "https://127.0.0.1:9443/validate-integration"
    expressions = [c["expression"] for c in integrations["matchConditions"]]
    assert any("object.spec != oldObject.spec" in e for e in expressions)
    assert any("canRemove == false" in e for e in expressions)
    assert integrations["failurePolicy"] == "Ignore"
    assert hooks["connections.switchboard.dev"]["rules"][0]["operations"] == ["CREATE", "UPDATE"]
    # The chart's entries are the same webhooks, reached through a Service.
    assert [h["name"] for h in chart_entries()] == list(hooks)
    assert chart_entries()[0]["clientConfig"] == {"service": {"path": "/validate-integration"}}
