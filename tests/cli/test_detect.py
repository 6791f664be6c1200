"""`switchboard detect URL` end to end: real plugins, a real database for the tenant's slugs, real
servers on loopback, settings from the environment."""

from __future__ import annotations

import json
import time
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from harness.http import LoopbackServer, Reply
from switchboard.catalog.ports import IntegrationWrite, WriteBatch
from switchboard.cli import app
from switchboard.models.records import IntegrationRecord
from switchboard.storage.database import open_database
from switchboard.storage.repository import SqlCatalogStore

SPEC = {"openapi": "3.0.3", "info": {"title": "Local Thing"}, "paths": {}}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SWITCHBOARD_DB": f"sqlite:///{tmp_path / 'catalog.db'}",
        "SWITCHBOARD_OUTBOUND_ALLOW": "127.0.0.0/8,::1",
        "SWITCHBOARD_DETECT_DEADLINE": "5",
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["detect", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_json_output(http_server: LoopbackServer, env: dict[str, str]) -> None:
    http_server.routes["/spec.json"] = Reply(
        200, orjson.dumps(SPEC), {"content-type": "application/json"}
    )
    code, stdout, _ = _run(env, f"  {http_server.url}/spec.json ", "--output", "json")
    assert code == 0
    body = json.loads(stdout)
    assert body["url"] == f"{http_server.url}/spec.json"  # trimmed
    best = body["results"][0]
    assert {k: best[k] for k in ("kind", "confidence", "slug", "name", "endpoint")} == {
        "kind": "openapi",
        "confidence": "high",
        "slug": "local_thing",
        "name": "Local Thing",
        "endpoint": f"{http_server.url}/spec.json",
    }
    assert best["evidence"]["openapi"] == "3.0.3"
    by_plugin = {d["plugin"]: d for d in body["detectors"]}
    assert by_plugin["openapi"]["outcome"] == "matched"
    assert "builtin" not in by_plugin  # it has no detector
    assert body["deadline"] == 5


def test_suggested_slugs_are_unique_in_the_tenant(
    http_server: LoopbackServer, env: dict[str, str]
) -> None:
    engine = open_database(env["SWITCHBOARD_DB"])
    record = IntegrationRecord(tenant="acme", slug="local_thing", kind="openapi", name="Taken")
    SqlCatalogStore(engine).apply(WriteBatch(integrations=[IntegrationWrite(record=record)]))
    engine.dispose()
    http_server.routes["/spec.json"] = Reply(200, orjson.dumps(SPEC))
    url = f"{http_server.url}/spec.json"
    _, in_acme, _ = _run(env, url, "-n", "acme", "-o", "json")
    _, elsewhere, _ = _run(env, url, "-n", "other", "-o", "json")
    assert json.loads(in_acme)["results"][0]["slug"] == "local_thing_2"
    assert json.loads(elsewhere)["results"][0]["slug"] == "local_thing"


def test_table_output(http_server: LoopbackServer, env: dict[str, str]) -> None:
    http_server.routes["/"] = Reply(200, b"<html></html>", {"content-type": "text/html"})
    http_server.routes["/openapi.json"] = Reply(200, orjson.dumps(SPEC))
    code, stdout, _ = _run(env, f"{http_server.url}/")
    assert code == 0
    assert "medium" in stdout
    assert f"{http_server.url}/openapi.json" in stdout
    assert "openapi matched (medium)" in stdout


def test_a_server_that_never_answers_returns_within_the_deadline(
    http_server: LoopbackServer, env: dict[str, str]
) -> None:
    http_server.routes["/hang"] = Reply(200, b"", delay=30)
    started = time.perf_counter()
    code, stdout, _ = _run(
        {**env, "SWITCHBOARD_DETECT_DEADLINE": "0.5"}, f"{http_server.url}/hang", "-o", "json"
    )
    assert time.perf_counter() - started < 3.0
    body = json.loads(stdout)
    assert body["deadline"] == 0.5
    outcomes = {d["plugin"]: d["outcome"] for d in body["detectors"]}
    assert outcomes["openapi"] == "timeout"
    assert code == (0 if body["results"] else 1)


def test_the_deadline_flag_overrides_the_environment(
    http_server: LoopbackServer, env: dict[str, str]
) -> None:
    http_server.routes["/hang"] = Reply(200, b"", delay=30)
    _, stdout, _ = _run(env, f"{http_server.url}/hang", "--deadline", "0.3", "-o", "json")
    assert json.loads(stdout)["deadline"] == 0.3


def test_nothing_detected_exits_1(http_server: LoopbackServer, env: dict[str, str]) -> None:
    http_server.routes["/page"] = Reply(200, b"<html>hi</html>", {"content-type": "text/html"})
    code, stdout, _ = _run(env, f"{http_server.url}/page")
    assert code == 1
    assert "nothing detected" in stdout


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("gopher://127.0.0.1:70/_x", "only http and https"),
        ("http://user:pw@127.0.0.1/", "credentials"),
        ("http://127.0.0.1/" + "a" * 2032, "2,049 characters"),
    ],
)
def test_urls_that_cannot_be_detected_exit_2(env: dict[str, str], url: str, fragment: str) -> None:
    code, _, stderr = _run(env, url)
    assert code == 2
    assert fragment in stderr.replace("\n", " ")


def test_a_refused_address_exits_2_and_says_how_to_allow_it(
    http_server: LoopbackServer, env: dict[str, str]
) -> None:
    http_server.routes["/spec.json"] = Reply(200, orjson.dumps(SPEC))
    code, _, stderr = _run(
        {**env, "SWITCHBOARD_OUTBOUND_ALLOW": ""}, f"{http_server.url}/spec.json"
    )
    assert code == 2
    assert "SWITCHBOARD_OUTBOUND_ALLOW" in stderr.replace("\n", " ")
    assert http_server.requests == []
