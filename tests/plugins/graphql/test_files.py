"""GraphQL in file mode end to end (`switchboard reconcile` in-process): an introspection file in
the repository becomes tools in SQLite and status in the manifest; an edited schema reports what
changed; a live-introspected integration registers without calling anyone; a failed re-read keeps
the last good tools."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from typer.testing import CliRunner

from harness.http import LoopbackServer, Reply
from plugins.graphql.servers import TOKEN, Running
from switchboard.cli import app


@dataclass
class Repo:
    root: Path
    db: str

    def run(self, *args: str) -> tuple[int, Any]:
        argv = list(args)
        if argv[0] == "reconcile":
            argv += ["--root", str(self.root)]
        argv += ["--db", self.db, "-o", "json"]
        result = CliRunner().invoke(app, argv, catch_exceptions=False)
        try:
            return result.exit_code, json.loads(result.output)
        except json.JSONDecodeError:
            return result.exit_code, result.output

    def status(self, name: str) -> dict[str, Any]:
        for document in yaml.safe_load_all((self.root / "manifests" / f"{name}.yaml").read_text()):
            if document and document.get("kind") == "Integration":
                status: dict[str, Any] = document["status"]
                return status
        raise AssertionError(f"no Integration in {name}.yaml")

    def tools(self, integration: str) -> list[str]:
        code, listed = self.run("catalog", "tools", "--integration", integration, "-n", "acme")
        assert code == 0, listed
        return sorted(t["name"] for t in listed)


def manifest(name: str, graphql: str) -> str:
    return (
        "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\n"
        f"metadata: {{name: {name}, namespace: acme}}\n"
        f"spec:\n  kind: graphql\n  description: The pet shop.\n  graphql:\n{graphql}"
    )


@pytest.fixture
def repo(tmp_path: Path, shop_snapshot: bytes, monkeypatch: pytest.MonkeyPatch) -> Repo:
    root = tmp_path / "repo"
    (root / "manifests").mkdir(parents=True)
    (root / "schemas").mkdir()
    (root / "schemas/shop.json").write_bytes(shop_snapshot)
    (root / "manifests/shop.yaml").write_text(
        manifest(
            "shop",
            "    endpoint: https://shop.example/graphql\n"
            "    introspection: {file: schemas/shop.json}\n"
            "    authenticationTemplate:\n"
            "      - kind: apikey\n"
            "        placements: [{carrier: header, name: Authorization, prefix: 'Bearer '}]\n",
        )
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("SWITCHBOARD_OUTBOUND_ALLOW", "127.0.0.0/8,::1")
    return Repo(root, f"sqlite:///{tmp_path / 'catalog.db'}")


def test_an_introspection_file_becomes_tools_and_status(repo: Repo, shop_snapshot: bytes) -> None:
    code, report = repo.run("reconcile", "manifests")
    assert code == 0, report
    [line] = report["resources"]
    assert (line["action"], line["ready"], line["slug"]) == ("create", True, "shop")
    status = repo.status("shop")
    assert status["kind"] == "graphql"
    assert status["displayUrl"] == "https://shop.example/graphql"
    assert status["tools"]["count"] == 12
    details = status["details"]
    assert (details["queries"], details["mutations"], details["subscriptions"]) == (8, 3, 1)
    assert details["types"] == 24
    assert details["schemaHash"] == hashlib.sha256(shop_snapshot).hexdigest()
    assert [m["template"] for m in status["authMethods"]] == ["header"]
    assert repo.tools("shop")[:3] == [
        "mutation.addPet",
        "mutation.deletePet",
        "mutation.setGreeting",
    ]
    assert "subscription.petAdded" in repo.tools("shop")
    # Nothing changed: nothing is done.
    code, again = repo.run("reconcile", "manifests")
    assert code == 0 and again["resources"][0]["action"] == "unchanged"


def test_an_edited_schema_reports_added_and_removed_tools(repo: Repo, shop_snapshot: bytes) -> None:
    assert repo.run("reconcile", "manifests")[0] == 0
    document = orjson.loads(shop_snapshot)
    types = document["data"]["__schema"]["types"]
    mutation = next(t for t in types if t["name"] == "Mutation")
    mutation["fields"] = [f for f in mutation["fields"] if f["name"] != "deletePet"]
    query = next(t for t in types if t["name"] == "Query")
    query["fields"].append({**query["fields"][0], "name": "ping", "args": [], "description": None})
    (repo.root / "schemas/shop.json").write_bytes(orjson.dumps(document))
    code, report = repo.run("reconcile", "manifests")
    assert code == 0, report
    assert report["resources"][0]["action"] == "update"
    status = repo.status("shop")
    assert status["addedTools"] == ["query.ping"]
    assert status["removedTools"] == ["mutation.deletePet"]
    assert "mutation.deletePet" not in repo.tools("shop")


def test_a_new_selection_depth_rewrites_the_stored_tools(repo: Repo) -> None:
    def pet_document() -> str:
        with sqlite3.connect(repo.db.removeprefix("sqlite:///")) as conn:
            [(binding,)] = conn.execute(
                "SELECT binding FROM tool WHERE integration = 'shop' AND name = 'query.pet'"
            ).fetchall()
        return str(json.loads(binding)["document"])

    assert repo.run("reconcile", "manifests")[0] == 0
    assert "owner { id name }" in pet_document()
    path = repo.root / "manifests/shop.yaml"
    path.write_text(
        path.read_text().replace("    endpoint:", "    selectionDepth: 1\n    endpoint:")
    )
    code, report = repo.run("reconcile", "manifests")
    assert code == 0 and report["resources"][0]["action"] == "update", report
    assert "owner" not in pet_document()


def test_a_live_integration_registers_without_calling_the_endpoint(
    repo: Repo, shop: Running
) -> None:
    (repo.root / "manifests/live.yaml").write_text(
        manifest("live", f"    endpoint: {shop.url}\n    headers: {{X-Client: tests}}\n")
    )
    code, report = repo.run("reconcile", "manifests")
    assert code == 0, report
    assert shop.app.seen == []
    status = repo.status("live")
    assert status["canRefresh"] is True
    assert status["details"] == {"introspection": "live", "title": "127.0.0.1"}
    condition = next(c for c in status["conditions"] if c["type"] == "ToolsDiscovered")
    assert (condition["status"], condition["reason"]) == ("Unknown", "IntrospectedPerConnection")
    assert repo.tools("live") == []


def test_a_failed_reread_keeps_the_last_good_tools(
    repo: Repo, http_server: LoopbackServer, shop_snapshot: bytes
) -> None:
    http_server.routes["/shop.json"] = Reply(
        200, shop_snapshot, {"content-type": "application/json"}
    )
    (repo.root / "manifests/shop.yaml").write_text(
        manifest(
            "shop",
            "    endpoint: https://shop.example/graphql\n"
            f"    introspection: {{url: '{http_server.url}/shop.json'}}\n",
        )
        # Due again at once; `--force` makes the run look at the unchanged manifest.
        + "  refresh: {interval: 1ms}\n"
    )
    assert repo.run("reconcile", "manifests")[0] == 0
    before = repo.tools("shop")
    assert len(before) == 12
    http_server.routes["/shop.json"] = Reply(
        503, b"<html>down</html>", {"content-type": "text/html"}
    )
    code, report = repo.run("reconcile", "manifests", "--force")
    assert code == 1
    assert report["resources"][0]["reason"] == "FetchFailed"
    assert repo.tools("shop") == before
    ready = next(c for c in repo.status("shop")["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"


def live_with_connection(endpoint: str) -> str:
    return (
        manifest(
            "live",
            f"    endpoint: {endpoint}\n"
            "    authenticationTemplate:\n"
            "      - kind: apikey\n"
            "        placements: [{carrier: header, name: Authorization, prefix: 'Bearer '}]\n",
        )
        + "---\napiVersion: switchboard.dev/v1alpha1\nkind: Connection\n"
        "metadata: {name: live-main, namespace: acme}\n"
        "spec:\n  integration: live\n  owner: {kind: org}\n  name: main\n  template: header\n"
        "  credentials:\n    env: {token: SHOP_TOKEN}\n"
    )


def connection_status(repo: Repo) -> dict[str, Any]:
    documents = yaml.safe_load_all((repo.root / "manifests/live.yaml").read_text())
    status: dict[str, Any] = next(d for d in documents if d["kind"] == "Connection")["status"]
    return status


def test_a_connection_introspects_live_with_its_credentials(
    repo: Repo, shop: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", TOKEN)
    (repo.root / "manifests/live.yaml").write_text(live_with_connection(shop.url))
    code, report = repo.run("reconcile", "manifests")
    assert code == 0, report
    status = connection_status(repo)
    assert status["address"] == "tools.live.org.main"
    assert status["tools"]["count"] == 12
    assert shop.app.seen[-1]["authorization"] == f"Bearer {TOKEN}"
    code, listed = repo.run("catalog", "tools", "--integration", "live", "-n", "acme")
    by_address = {t["address"]: t for t in listed}
    assert by_address["tools.live.org.main.mutation.setGreeting"]["requiresApproval"] is True
    assert "tools.live.org.main.subscription.petAdded" in by_address


def test_a_rejected_credential_is_reported_and_never_written(
    repo: Repo, shop: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = "planted-wrong-token-9c2d"  # the shop echoes it in its 403 answer
    monkeypatch.setenv("SHOP_TOKEN", planted)
    (repo.root / "manifests/live.yaml").write_text(live_with_connection(shop.url))
    code, _ = repo.run("reconcile", "manifests")
    assert code == 1
    ready = next(c for c in connection_status(repo)["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "CredentialsRejected")
    assert planted not in (repo.root / "manifests/live.yaml").read_text()
    assert planted.encode() not in Path(repo.db.removeprefix("sqlite:///")).read_bytes()


def test_an_unreachable_endpoint_leaves_the_connection_incomplete(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", TOKEN)
    (repo.root / "manifests/live.yaml").write_text(
        live_with_connection("http://127.0.0.1:1/graphql")
    )
    code, _ = repo.run("reconcile", "manifests")
    assert code == 1
    ready = next(c for c in connection_status(repo)["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "IntrospectionFailed")
    assert TOKEN not in (repo.root / "manifests/live.yaml").read_text()
