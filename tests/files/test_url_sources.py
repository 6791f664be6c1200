"""URL-sourced specs in file mode, fetched from a real loopback server through the outbound policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from files.conftest import Run
from harness.http import LoopbackServer, Reply

SPEC = b"""{"openapi": "3.0.0", "info": {"title": "Remote"},
 "servers": [{"url": "/api"}],
 "paths": {"/things": {"get": {"operationId": "listThings", "responses": {"200": {"description": "ok"}}}}}}"""


def manifest(url: str) -> str:
    return (
        "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\n"
        "metadata: {name: remote, namespace: acme}\n"
        f"spec:\n  kind: openapi\n  openapi:\n    source: {{url: '{url}'}}\n"
    )


def test_url_source_is_fetched_and_can_refresh(
    run: Run, repo: Path, http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_OUTBOUND_ALLOW", "127.0.0.0/8,::1")
    http_server.routes["/openapi.json"] = Reply(200, SPEC, {"content-type": "application/json"})
    (repo / "examples/remote.yaml").write_text(manifest(f"{http_server.url}/openapi.json"))
    result = run("reconcile", "examples", "-o", "json")
    assert result.exit_code == 0, result.output
    got = run("catalog", "get", "remote", "-n", "acme", "-o", "json").json
    assert got["canRefresh"] is True
    assert got["displayUrl"] == f"{http_server.url}/openapi.json"
    tools = run("catalog", "tools", "--integration", "remote", "-o", "json").json
    assert [t["name"] for t in tools] == ["things.listThings"]
    assert [r.path for r in http_server.requests] == ["/openapi.json"]


def test_loopback_is_refused_unless_allowed(
    run: Run, repo: Path, http_server: LoopbackServer
) -> None:
    http_server.routes["/openapi.json"] = Reply(200, SPEC)
    (repo / "examples/remote.yaml").write_text(manifest(f"{http_server.url}/openapi.json"))
    result = run("reconcile", "examples", "-o", "json")
    assert result.exit_code == 1
    remote = next(r for r in result.json["resources"] if r["name"] == "remote")
    assert remote["reason"] == "URLNotAllowed"
    assert remote["message"].startswith("spec.openapi.source.url: ")
    assert http_server.requests == []  # refused before any connection
