"""File mode end to end: manifests in a repository → catalog in SQLite, status written back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from files.conftest import Run


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def rows(db: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return conn.execute(
            "SELECT tenant, slug, plugin_id, name, spec_hash, manifest_hash, updated_at "
            "FROM integration ORDER BY slug"
        ).fetchall()


def test_examples_reconcile_ready_and_status_is_written(run: Run, repo: Path) -> None:
    result = run("reconcile", "examples", "-o", "json")
    assert result.exit_code == 0, result.output
    report = result.json
    assert {r["name"]: r["action"] for r in report["resources"]} == {
        "petstore": "create",
        "acme-billing": "create",
        "weather": "create",
        "status-page": "create",
        "countries": "create",
        "status-page-public": "create",
        "weather-alice": "create",
    }
    assert all(r["ready"] for r in report["resources"])
    text = (repo / "examples/integrations.yaml").read_text()
    assert "status:\n  slug: petstore" in text
    assert "reason: Registered" in text


def test_writeback_preserves_comments_order_quoting_and_other_documents(
    run: Run, repo: Path
) -> None:
    manifest = repo / "examples/integrations.yaml"
    original = manifest.read_text()
    extra = (
        "---\n# a foreign document stays untouched\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: keep-me}\ndata:\n  'quoted': \"yes\"\n"
    )
    manifest.write_text(original + extra)
    assert run("reconcile", "examples").exit_code == 0
    written = manifest.read_text()
    assert written.endswith(extra)
    # Taking the status blocks out gives back the original bytes exactly.
    assert strip_status(written) == original + extra
    assert written.count("\nstatus:\n") == 3


def strip_status(text: str) -> str:
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("status:"):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "\n")) or not line.strip()):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


def test_second_run_changes_no_byte_and_no_row(run: Run, repo: Path, db: str) -> None:
    assert run("reconcile", "examples").exit_code == 0
    before_files, before_rows = snapshot(repo), rows(db)
    result = run("reconcile", "examples", "-o", "json")
    assert result.exit_code == 0
    assert {r["action"] for r in result.json["resources"]} == {"unchanged"}
    assert result.json["filesRead"] == 0
    assert snapshot(repo) == before_files
    assert rows(db) == before_rows
    # Even when every file is re-read (--force), nothing changes.
    assert run("reconcile", "examples", "--force").exit_code == 0
    assert snapshot(repo) == before_files
    assert rows(db) == before_rows


def test_dry_run_prints_the_plan_and_writes_nothing(run: Run, repo: Path, db: str) -> None:
    before = snapshot(repo)
    result = run("reconcile", "examples", "--dry-run", "-o", "json")
    assert result.exit_code == 0
    assert result.json["dryRun"] is True
    assert {r["action"] for r in result.json["resources"]} == {"create"}
    assert snapshot(repo) == before
    assert rows(db) == []


def test_changing_one_manifest_updates_only_it(run: Run, repo: Path, db: str) -> None:
    assert run("reconcile", "examples").exit_code == 0
    manifest = repo / "examples/status-service.yaml"
    manifest.write_text(manifest.read_text().replace("Read-only status", "The status"))
    result = run("reconcile", "examples", "-o", "json")
    actions = {r["name"]: r["action"] for r in result.json["resources"]}
    assert actions["status-page"] == "update"
    assert {a for n, a in actions.items() if n != "status-page"} == {"unchanged"}


def test_spec_file_change_reports_added_and_removed_tools(run: Run, repo: Path) -> None:
    assert run("reconcile", "examples").exit_code == 0
    spec = repo / "examples/specs/weather.yaml"
    spec.write_text(spec.read_text().replace("/current:", "/now:").replace("getCurrent", "getNow"))
    result = run("reconcile", "examples", "-o", "json")
    assert {r["name"]: r["action"] for r in result.json["resources"]}["weather"] == "update"
    docs = list(yaml.safe_load_all((repo / "examples/integrations.yaml").read_text()))
    weather = next(d for d in docs if d["metadata"]["name"] == "weather")["status"]
    assert weather["addedTools"] == ["now.getNow"]
    assert weather["removedTools"] == ["current.getCurrent"]


def test_prune_removes_integrations_whose_manifest_is_gone(run: Run, repo: Path, db: str) -> None:
    assert run("reconcile", "examples").exit_code == 0
    (repo / "examples/status-service.yaml").unlink()
    kept = run("reconcile", "examples", "--no-prune", "-o", "json")
    assert "status_page" in [r[1] for r in rows(db)]
    assert "prune" not in {r["action"] for r in kept.json["resources"]}
    pruned = run("reconcile", "examples", "-o", "json")
    assert [r["name"] for r in pruned.json["resources"] if r["action"] == "prune"] == [
        "status-page"
    ]
    assert "status_page" not in [r[1] for r in rows(db)]


def test_catalog_list_and_get_read_the_mirror(run: Run) -> None:
    assert run("reconcile", "examples").exit_code == 0
    listed = run("catalog", "list", "-o", "json").json
    assert [v["slug"] for v in listed][:1] == ["switchboard"]
    assert {v["slug"] for v in listed} >= {"petstore", "acme_billing", "weather", "status_page"}
    got = run("catalog", "get", "weather", "-n", "acme", "-o", "json").json
    assert set(got) <= {
        "slug",
        "name",
        "description",
        "kind",
        "canRemove",
        "canRefresh",
        "authMethods",
        "displayUrl",
        "tenant",
    }
    # An apiKey in the query string yields a placement that is actually sent (reference gap 3).
    assert got["authMethods"][0]["placements"] == [
        {"carrier": "query", "name": "appid", "prefix": ""}
    ]
    assert run("catalog", "get", "ghost", "-n", "acme").exit_code == 1


def test_usage_errors_exit_2(run: Run) -> None:
    assert run("reconcile", "does-not-exist").exit_code == 2
    assert run("reconcile", "examples", "-o", "xml").exit_code == 2


def test_flow_style_documents_get_status_too(run: Run, repo: Path) -> None:
    flow = (
        "{apiVersion: switchboard.dev/v1alpha1, kind: Integration, metadata: {name: flow, namespace: acme},"
        " spec: {kind: openapi, openapi: {source: {file: examples/specs/weather.yaml}}}}\n"
    )
    (repo / "examples/flow.yaml").write_text(flow)
    assert run("reconcile", "examples").exit_code == 0
    doc = yaml.safe_load((repo / "examples/flow.yaml").read_text())
    assert doc["spec"]["openapi"]["source"]["file"] == "examples/specs/weather.yaml"
    assert doc["status"]["slug"] == "flow"
    before = (repo / "examples/flow.yaml").read_bytes()
    assert run("reconcile", "examples", "--force").exit_code == 0
    assert (repo / "examples/flow.yaml").read_bytes() == before
