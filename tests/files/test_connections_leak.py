"""The planted-secret test: credential values reach the upstream that needs them and nothing else.
The database (file and rows), the manifests and their status, the JSON output, Events and captured
logs are searched for every planted value after successful, failing and rejected runs."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, select

from files.conftest import Run
from harness.http import LoopbackServer
from reconcile.discovering import NOW, ToolsRoute, connection, make_world
from switchboard.reconcile.connections import reconcile_connection
from switchboard.reconcile.files import FileReconciler
from switchboard.storage.credentials import FileModeCredentials
from switchboard.storage.manifests import ManifestRepository

ENV_VALUE = "sk-planted-env-5d1e9a7c"
FILE_VALUE = "sk-planted-file-83b0f4e2"
REJECTED_VALUE = "sk-planted-rejected-0c6a"
PLANTED = (ENV_VALUE, FILE_VALUE, REJECTED_VALUE)

SPEC = """\
openapi: 3.0.3
info: {title: Vault, version: "1"}
servers: [{url: https://vault.example}]
components:
  securitySchemes:
    key: {type: apiKey, in: query, name: api_key}
security: [{key: []}]
paths:
  /items:
    get: {operationId: listItems, responses: {"200": {description: ok}}}
"""


def manifests(discovery_url: str | None = None) -> str:
    docs = [
        "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\n"
        "metadata: {name: vault, namespace: acme}\n"
        "spec:\n  kind: openapi\n  openapi:\n    source: {file: leak/vault.yaml}\n",
    ]
    for name, credentials in (
        ("from-env", "    env: {token: SB_LEAK_TOKEN}\n"),
        ("from-file", "    files: {token: leak/secret.token}\n"),
        ("from-nowhere", "    env: {token: SB_LEAK_UNSET}\n"),
    ):
        docs.append(
            "apiVersion: switchboard.dev/v1alpha1\nkind: Connection\n"
            f"metadata: {{name: {name}, namespace: acme}}\n"
            "spec:\n  integration: vault\n  owner: {kind: org}\n  template: apikey-0\n"
            f"  credentials:\n{credentials}"
        )
    if discovery_url is not None:
        docs.append(
            "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\n"
            "metadata: {name: crm, namespace: acme}\n"
            f"spec:\n  kind: discovery\n  config:\n    endpoint: {discovery_url}\n"
            "    shared: [list]\n"
            "    authenticationTemplate:\n"
            "      - {slug: query, kind: apikey, placements: [{carrier: query, name: api_key}]}\n"
        )
        for name, variable in (("crm-good", "SB_LEAK_TOKEN"), ("crm-bad", "SB_LEAK_REJECTED")):
            docs.append(
                "apiVersion: switchboard.dev/v1alpha1\nkind: Connection\n"
                f"metadata: {{name: {name}, namespace: acme}}\n"
                "spec:\n  integration: crm\n  owner: {kind: user, subject: alice}\n"
                f"  template: query\n  credentials:\n    env: {{token: {variable}}}\n"
            )
    return "---\n".join(docs)


@pytest.fixture
def planted(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SB_LEAK_TOKEN", ENV_VALUE)
    monkeypatch.setenv("SB_LEAK_REJECTED", REJECTED_VALUE)
    monkeypatch.delenv("SB_LEAK_UNSET", raising=False)
    root = repo / "leak"
    root.mkdir()
    (root / "vault.yaml").write_text(SPEC)
    return root


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    return caplog


def repository_text(root: Path, *, skip: Path) -> str:
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path != skip:
            out.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def database_text(engine: Engine) -> str:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        return "\n".join(
            repr(row) for table in metadata.sorted_tables for row in conn.execute(select(table))
        )


def assert_clean(*texts: str) -> None:
    for text in texts:
        for value in PLANTED:
            assert value not in text


def test_cli_run_leaks_no_credential(
    run: Run,
    repo: Path,
    planted: Path,
    db: str,
    logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret_file = planted / "secret.token"
    secret_file.write_text(FILE_VALUE + "\n")
    (planted / "manifests.yaml").write_text(manifests())
    first = run("reconcile", "leak", "-o", "json")
    second = run("reconcile", "leak", "-o", "json")
    lines = {r["name"]: (r["ready"], r["reason"]) for r in first.json["resources"]}
    assert lines["from-env"] == (True, "") and lines["from-file"] == (True, "")
    assert lines["from-nowhere"] == (False, "CredentialsMissing")
    tools = run("catalog", "tools", "-n", "acme", "-o", "json")
    listing = run("catalog", "list", "-o", "json")
    database = Path(db.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert ENV_VALUE.encode() not in stored and FILE_VALUE.encode() not in stored
    captured = capsys.readouterr()
    assert_clean(
        first.output,
        second.output,
        tools.output,
        listing.output,
        repository_text(repo, skip=secret_file),
        logs.text,
        captured.out,
        captured.err,
    )
    assert "tools.vault.org.fromEnv." in tools.output  # the check can see the output


async def test_discovery_sending_and_rejecting_credentials_leaks_nothing(
    repo: Path,
    planted: Path,
    engine: Engine,
    http_server: LoopbackServer,
    logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    route = ToolsRoute({ENV_VALUE: ["notes.read"]})
    http_server.routes["/tools"] = route
    secret_file = planted / "secret.token"
    secret_file.write_text(FILE_VALUE)
    (planted / "manifests.yaml").write_text(manifests(http_server.url))
    world = make_world(engine, http_server, repo)
    credentials = FileModeCredentials(repo, environ=os.environ)
    reports = []
    try:
        for _ in range(2):
            reconciler = FileReconciler(
                manifests=ManifestRepository(repo),
                store=world.catalog,
                registry=world.registry,
                ctx=world.ctx,
                now=NOW,
                connections=world.connections,
                credentials=credentials,
                jitter=0,
            )
            reports.append(await reconciler.run([planted], dry_run=False, prune=True))
        # The Events an operator would emit come from the same outcome.
        rejected = await reconcile_connection(
            connection(
                "crm-bad",
                owner={"kind": "user", "subject": "alice"},
                template="query",
                credentials={"env": {"token": "SB_LEAK_REJECTED"}},
            ),
            stores=world.stores,
            registry=world.registry,
            ctx=world.ctx,
            credentials_provider=credentials,
            now=NOW,
        )
    finally:
        await world.http.aclose()
    lines = {r.name: (r.ready, r.reason, r.message) for r in reports[0].resources}
    assert lines["crm-good"][:2] == (True, "")
    assert lines["crm-bad"][:2] == (False, "CredentialsRejected")
    assert "bad token ***" in lines["crm-bad"][2]  # the upstream's echo, redacted
    # The values did reach the upstream that needed them, in the query string.
    assert f"Bearer {ENV_VALUE}" in route.seen and f"Bearer {REJECTED_VALUE}" in route.seen
    captured = capsys.readouterr()
    assert_clean(
        database_text(engine),
        repository_text(repo, skip=secret_file),
        repr(reports),
        repr(rejected.events),
        rejected.status.model_dump_json(),
        str(rejected.error),
        logs.text,
        captured.out,
        captured.err,
    )
