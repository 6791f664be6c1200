"""End to end through file mode (`switchboard reconcile`): MCP manifests against real servers,
status written back into the files, tools in the catalog database; a 401 server is Ready with
`AuthRequired=True`; stdio refused with a clear condition unless enabled."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from plugins.mcp.servers import BearerGate, Running, demo_server, serve, streamable
from switchboard.cli import app


def manifest(name: str, mcp: str) -> str:
    return (
        "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\n"
        f"metadata: {{name: {name}, namespace: acme}}\n"
        f"spec:\n  kind: mcp\n  mcp: {mcp}\n  refresh: {{interval: 1h}}\n"
    )


def cli(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def status_of(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    status: dict[str, Any] = document["status"]
    return status


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SWITCHBOARD_OUTBOUND_ALLOW", "127.0.0.0/8,::1")
    root = tmp_path / "repo"
    (root / "mcp").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def test_reconcile_mcp_manifests(repo: Path, demo: Running, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'catalog.db'}"
    with serve(BearerGate(streamable(demo_server()))) as gated:
        (repo / "mcp/demo.yaml").write_text(
            manifest("demo", f"{{transport: remote, endpoint: '{demo.base}/mcp'}}")
        )
        (repo / "mcp/gated.yaml").write_text(
            manifest("gated", f"{{transport: remote, endpoint: '{gated.base}/mcp'}}")
        )
        local = json.dumps({"transport": "stdio", "command": sys.executable, "args": ["-V"]})
        (repo / "mcp/local.yaml").write_text(manifest("local", local))
        code, output = cli("reconcile", "mcp", "--root", str(repo), "--db", db, "-o", "json")
    assert code == 1, output  # the stdio manifest is refused; the others are not held back
    demo_status = status_of(repo / "mcp/demo.yaml")
    assert conditions(demo_status)["Ready"] == ("True", "Registered")
    assert conditions(demo_status)["ToolsDiscovered"] == ("True", "Discovered")
    assert demo_status["tools"]["count"] == 4
    assert demo_status["canRefresh"] is True
    assert demo_status["details"]["serverName"] == "Demo Server"
    assert demo_status["authMethods"] == [
        {"id": "none", "label": "No authentication", "kind": "none", "template": "none"}
    ]
    gated_status = status_of(repo / "mcp/gated.yaml")
    assert conditions(gated_status)["Ready"] == ("True", "Registered")
    assert conditions(gated_status)["Reachable"] == ("True", "Answered")
    assert conditions(gated_status)["AuthRequired"] == ("True", "CredentialsRequired")
    assert conditions(gated_status)["ToolsDiscovered"] == ("False", "NeedsCredentials")
    (oauth,) = gated_status["authMethods"]
    assert oauth["kind"] == "oauth"
    assert oauth["oauth"]["tokenUrl"] == f"{gated.base}/auth/token"
    local_status = status_of(repo / "mcp/local.yaml")
    assert conditions(local_status)["Ready"] == ("False", "StdioDisabled")
    message = next(c["message"] for c in local_status["conditions"] if c["type"] == "Ready")
    assert message.startswith("spec.mcp.transport: ") and "SWITCHBOARD_MCP_ALLOW_STDIO" in message
    code, output = cli("catalog", "tools", "--integration", "demo", "--db", db, "-o", "json")
    assert code == 0, output
    names = sorted(t["name"] for t in json.loads(output))
    assert names == ["delete_everything", "get_weather", "get_weather_2", "grow"]
