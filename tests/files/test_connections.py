"""File mode end to end for Connections: manifests in a throwaway repository, credentials from the
real process environment and from repository files, status written back, no-op second runs,
integration changes and prunes reaching their connections in the same run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from files.conftest import Run

SPEC = """\
openapi: 3.0.3
info: {title: Petstore, version: "1"}
servers: [{url: https://petstore.example/v1}]
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
security: [{bearer: []}]
paths:
  /pets:
    get: {operationId: listPets, tags: [pets], responses: {"200": {description: ok}}}
    post: {operationId: createPet, tags: [pets], responses: {"201": {description: ok}}}
"""
INTEGRATION = """\
apiVersion: switchboard.dev/v1alpha1
kind: Integration
metadata: {name: petstore, namespace: acme}
spec:
  kind: openapi
  openapi:
    source: {file: conn/specs/petstore.yaml}
"""


def connection(
    name: str, credentials: str, *, spec_name: str = "", template: str = "apikey-0"
) -> str:
    named = f"  name: {spec_name}\n" if spec_name else ""
    return (
        "apiVersion: switchboard.dev/v1alpha1\nkind: Connection\n"
        f"metadata: {{name: {name}, namespace: acme}}\n"
        f"spec:\n  integration: petstore\n  owner: {{kind: org}}\n{named}"
        f"  template: {template}\n{credentials}"
    )


ENV = "  credentials:\n    env: {token: SB_FILES_PET_TOKEN}\n"
FILES = "  credentials:\n    files: {token: conn/secrets/pet.token}\n"


@pytest.fixture
def conn(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SB_FILES_PET_TOKEN", raising=False)
    root = repo / "conn"
    (root / "specs").mkdir(parents=True)
    (root / "secrets").mkdir()
    (root / "specs/petstore.yaml").write_text(SPEC)
    (root / "petstore.yaml").write_text(INTEGRATION)
    return root


def statuses(path: Path) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d.get("status", {})
        for d in yaml.safe_load_all(path.read_text())
        if d and d.get("kind") == "Connection"
    }


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def by_name(report: dict[str, Any], kind: str = "Connection") -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in report["resources"] if r["kind"] == kind}


def db_rows(db: str, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as handle:
        return handle.execute(query).fetchall()


def test_env_and_file_credentials_connect_and_a_second_run_changes_nothing(
    run: Run, conn: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SB_FILES_PET_TOKEN", "env-value")
    (conn / "secrets/pet.token").write_text("file-value\n")
    manifest = conn / "connections.yaml"
    manifest.write_text(
        connection("pet-env", ENV, spec_name="my-api-key") + "---\n" + connection("pet-file", FILES)
    )
    first = run("reconcile", "conn", "-o", "json")
    assert first.exit_code == 0, first.output
    lines = by_name(first.json)
    assert {n: (r["action"], r["ready"], r["slug"]) for n, r in lines.items()} == {
        "pet-env": ("create", True, "tools.petstore.org.myApiKey"),
        "pet-file": ("create", True, "tools.petstore.org.petFile"),
    }
    written = statuses(manifest)
    assert written["pet-env"]["address"] == "tools.petstore.org.myApiKey"
    assert written["pet-env"]["tools"]["count"] == 2
    assert written["pet-env"]["toolsSyncedAt"]
    assert condition(written["pet-file"], "Ready")["reason"] == "Connected"
    rows = db_rows(db, "SELECT name, provider, item_ids FROM connection ORDER BY name")
    assert [(name, provider, json.loads(items)) for name, provider, items in rows] == [
        ("myApiKey", "env", {"token": "SB_FILES_PET_TOKEN"}),
        ("petFile", "files", {"token": "conn/secrets/pet.token"}),
    ]
    tools = run("catalog", "tools", "-n", "acme", "--integration", "petstore", "-o", "json").json
    assert [t["address"] for t in tools] == [
        "tools.petstore.org.myApiKey.pets.createPet",
        "tools.petstore.org.myApiKey.pets.listPets",
        "tools.petstore.org.petFile.pets.createPet",
        "tools.petstore.org.petFile.pets.listPets",
    ]
    before = manifest.read_bytes()
    second = run("reconcile", "conn", "-o", "json")
    assert second.exit_code == 0, second.output
    assert second.json["filesWritten"] == 0 and second.json["filesRead"] == 0
    assert {r["action"] for r in second.json["resources"]} == {"unchanged"}
    assert by_name(second.json)["pet-env"]["slug"] == "tools.petstore.org.myApiKey"
    assert manifest.read_bytes() == before


def test_missing_credentials_wait_without_churn_then_connect(
    run: Run, conn: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = conn / "connections.yaml"
    manifest.write_text(connection("pet-env", ENV))
    first = run("reconcile", "conn", "-o", "json")
    assert first.exit_code == 1
    line = by_name(first.json)["pet-env"]
    assert (line["action"], line["reason"]) == ("error", "CredentialsMissing")
    assert "SB_FILES_PET_TOKEN is not set" in line["message"]
    status = statuses(manifest)["pet-env"]
    assert status["missingCredentials"] == [
        "token (environment variable SB_FILES_PET_TOKEN is not set)"
    ]
    assert condition(status, "CredentialsResolved")["status"] == "False"
    assert condition(status, "Stalled")["status"] == "False"  # it waits; nothing is broken
    before = manifest.read_bytes()
    again = run("reconcile", "conn", "-o", "json")
    assert by_name(again.json)["pet-env"]["reason"] == "CredentialsMissing"
    assert manifest.read_bytes() == before  # re-checked, same answer, same bytes
    monkeypatch.setenv("SB_FILES_PET_TOKEN", "now-set")
    fixed = run("reconcile", "conn", "-o", "json")
    assert fixed.exit_code == 0, fixed.output
    assert by_name(fixed.json)["pet-env"]["ready"] is True
    assert "missingCredentials" not in statuses(manifest)["pet-env"]


def test_a_spec_change_reaches_connections_in_unchanged_files(
    run: Run, conn: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SB_FILES_PET_TOKEN", "v")
    manifest = conn / "connections.yaml"
    manifest.write_text(connection("pet-env", ENV))
    assert run("reconcile", "conn").exit_code == 0
    before = statuses(manifest)["pet-env"]["tools"]
    (conn / "specs/petstore.yaml").write_text(
        SPEC
        + "  /pets/{id}:\n    get: {operationId: getPet, tags: [pets], parameters: "
        + "[{name: id, in: path, required: true, schema: {type: string}}], "
        + 'responses: {"200": {description: ok}}}\n'
    )
    result = run("reconcile", "conn", "-o", "json")
    assert result.exit_code == 0, result.output
    assert by_name(result.json)["pet-env"]["action"] == "update"
    after = statuses(manifest)["pet-env"]["tools"]
    assert (before["count"], after["count"]) == (2, 3)
    assert after["digest"] != before["digest"]
    assert run("reconcile", "conn", "-o", "json").json["filesWritten"] == 0


def test_pruning_the_integration_leaves_connections_waiting_in_the_same_run(
    run: Run, conn: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SB_FILES_PET_TOKEN", "v")
    manifest = conn / "connections.yaml"
    manifest.write_text(connection("pet-env", ENV))
    assert run("reconcile", "conn").exit_code == 0
    (conn / "petstore.yaml").unlink()
    result = run("reconcile", "conn", "-o", "json")
    assert by_name(result.json, "Integration")["petstore"]["action"] == "prune"
    line = by_name(result.json)["pet-env"]
    assert (line["ready"], line["reason"]) == (False, "IntegrationMissing")
    status = statuses(manifest)["pet-env"]
    assert condition(status, "Ready")["reason"] == "IntegrationMissing"
    assert "tools" not in status
    assert db_rows(db, "SELECT count(*) FROM connection") == [(0,)]
    assert db_rows(db, "SELECT count(*) FROM tool") == [(0,)]
    (conn / "petstore.yaml").write_text(INTEGRATION)
    back = run("reconcile", "conn", "-o", "json")
    assert back.exit_code == 0, back.output
    assert by_name(back.json)["pet-env"]["ready"] is True


def test_a_removed_connection_document_is_pruned_and_renames_move_the_row(
    run: Run, conn: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SB_FILES_PET_TOKEN", "v")
    manifest = conn / "connections.yaml"
    manifest.write_text(connection("a", ENV) + "---\n" + connection("b", ENV))
    assert run("reconcile", "conn").exit_code == 0
    manifest.write_text(connection("a", ENV, spec_name="primary"))
    result = run("reconcile", "conn", "-o", "json")
    assert result.exit_code == 0, result.output
    assert by_name(result.json)["b"]["action"] == "prune"
    assert db_rows(db, "SELECT name FROM connection") == [("primary",)]


def test_bad_connection_documents_get_conditions_and_block_nothing(
    run: Run, conn: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SB_FILES_PET_TOKEN", "v")
    manifest = conn / "connections.yaml"
    secret = "  credentials:\n    secretRef: {name: pet}\n"
    no_subject = connection("who", ENV).replace("{kind: org}", "{kind: user}")
    manifest.write_text(
        "---\n".join(
            [
                connection("good", ENV, spec_name="main"),
                connection("twin", ENV, spec_name="Main"),  # normalizes to the same identity
                connection("cluster-only", secret),
                connection("typo", ENV, template="apikey-9"),
                no_subject,
            ]
        )
    )
    result = run("reconcile", "conn", "-o", "json")
    assert result.exit_code == 1
    lines = {n: (r["ready"], r["reason"]) for n, r in by_name(result.json).items()}
    assert lines == {
        "good": (True, ""),
        "twin": (False, "InvalidSpec"),
        "cluster-only": (False, "InvalidSpec"),
        "typo": (False, "UnknownTemplate"),
        "who": (False, "InvalidSpec"),
    }
    messages = {n: r["message"] for n, r in by_name(result.json).items()}
    assert "declared twice" in messages["twin"]
    assert messages["cluster-only"].startswith("spec.credentials.secretRef: ")
    assert "valid: apikey-0, none" in messages["typo"]
    assert messages["who"].startswith("spec.owner")
    written = statuses(manifest)
    assert condition(written["who"], "Ready")["reason"] == "InvalidSpec"
    assert condition(written["good"], "Ready")["status"] == "True"


def test_dry_run_writes_nothing(
    run: Run, conn: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SB_FILES_PET_TOKEN", "v")
    manifest = conn / "connections.yaml"
    manifest.write_text(connection("pet-env", ENV))
    result = run("reconcile", "conn", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.output
    # Planned against the integration this same run would create.
    assert by_name(result.json)["pet-env"]["action"] == "create"
    assert "status" not in manifest.read_text()
    assert db_rows(db, "SELECT count(*) FROM connection") == [(0,)]


def test_connections_outside_the_run_are_rebuilt_and_their_status_catches_up(
    run: Run, conn: Path, monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    monkeypatch.setenv("SB_FILES_PET_TOKEN", "v")
    (conn / "users").mkdir()
    manifest = conn / "users/connections.yaml"
    manifest.write_text(connection("pet-env", ENV))
    assert run("reconcile", "conn").exit_code == 0
    synced = db_rows(db, "SELECT synced_revision, tool_count FROM connection")
    (conn / "specs/petstore.yaml").write_text(SPEC.replace("listPets", "listAllPets"))
    # Only the integration's file is in scope; its connection is rebuilt at the end of the run.
    assert run("reconcile", "conn/petstore.yaml").exit_code == 0
    rebuilt = db_rows(db, "SELECT synced_revision, tool_count FROM connection")
    assert rebuilt != synced and rebuilt[0][1] == 2
    revised = db_rows(db, "SELECT config_revised_at FROM integration")
    assert rebuilt[0][0] == revised[0][0]
    before = statuses(manifest)["pet-env"]["toolsSyncedAt"]
    caught_up = run("reconcile", "conn/users", "-o", "json")
    assert caught_up.json["filesRead"] == 1 and caught_up.json["filesWritten"] == 1
    status = statuses(manifest)["pet-env"]
    assert status["tools"]["sampleNames"] == ["pets.createPet", "pets.listAllPets"]
    assert status["toolsSyncedAt"] >= before
