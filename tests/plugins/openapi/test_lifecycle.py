"""The spec's lifecycle: a changed file reports added and removed tools and keeps what the user
declared (case 59, in file mode); a URL spec is re-read on `spec.refresh.interval` with
`If-None-Match`, and a 304 keeps everything and counts as success."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml
from sqlalchemy import Engine

from harness.http import LoopbackServer, Reply, Seen
from plugins.openapi.helpers import make_ctx, openapi
from switchboard.catalog.ports import WriteBatch
from switchboard.models.integration import Integration
from switchboard.plugins.contract import RegistrationRequest
from switchboard.plugins.openapi import plugin
from switchboard.plugins.registry import PluginRegistry
from switchboard.reconcile.files import FileReconciler
from switchboard.reconcile.integrations import IntegrationOutcome, reconcile_integration
from switchboard.storage.manifests import ManifestRepository
from switchboard.storage.repository import SqlCatalogStore

OK = {"200": {"description": "ok"}}
BEFORE = openapi(
    {
        "/items": {
            "get": {"operationId": "items.listItems", "tags": ["items"], "responses": OK},
            "post": {"operationId": "items.queryRows", "tags": ["items"], "responses": OK},
        }
    },
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    security=[{"bearer": []}],
)
AFTER = openapi(
    {
        "/items": {"get": {"operationId": "items.listItems", "tags": ["items"], "responses": OK}},
        "/widgets": {"get": {"operationId": "listWidgets", "responses": OK}},
    },
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    security=[{"bearer": []}],
)
MANIFEST = """\
apiVersion: switchboard.dev/v1alpha1
kind: Integration
metadata: {name: evolving, namespace: acme}
spec:
  description: Items and rows, for the agent.
  kind: openapi
  openapi:
    source: {file: specs/evolving.json}
    baseUrl: https://evolving.example.com/v1
    authenticationTemplate:
      - {slug: partner, kind: apikey, placements: [{carrier: header, name: X-Partner}]}
"""


def _status(repo: Path) -> dict[str, Any]:
    status: dict[str, Any] = yaml.safe_load((repo / "evolving.yaml").read_text())["status"]
    return status


async def _reconcile(repo: Path, store: SqlCatalogStore, now: datetime) -> None:
    reconciler = FileReconciler(
        manifests=ManifestRepository(repo),
        store=store,
        registry=PluginRegistry([plugin]),
        ctx=make_ctx(repo),
        now=now,
    )
    report = await reconciler.run([repo], dry_run=False, prune=True)
    assert not report.failed, report.resources


async def test_case_59_spec_change_in_file_mode(tmp_path: Path, engine: Engine) -> None:
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    (repo / "specs/evolving.json").write_bytes(orjson.dumps(BEFORE))
    (repo / "evolving.yaml").write_text(MANIFEST)
    store = SqlCatalogStore(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    await _reconcile(repo, store, now)
    first = _status(repo)
    assert first["tools"]["count"] == 2
    assert [t["id"] for t in first["authMethods"]] == ["apikey-0", "partner"]

    (repo / "specs/evolving.json").write_bytes(orjson.dumps(AFTER))
    await _reconcile(repo, store, now + timedelta(minutes=1))
    second = _status(repo)
    assert second["addedTools"] == ["widgets.listWidgets"]
    assert second["removedTools"] == ["items.queryRows"]
    assert second["specHash"] != first["specHash"]
    assert second["tools"]["count"] == 2
    # What the user declared survives the change.
    assert [t["id"] for t in second["authMethods"]] == ["apikey-0", "partner"]
    assert second["displayUrl"] == "https://evolving.example.com/v1"
    record = store.get("acme", "evolving")
    assert record is not None
    assert record.description == "Items and rows, for the agent."
    assert record.config["baseUrl"] == "https://evolving.example.com/v1"
    assert sorted(store.tool_names("acme", "evolving")) == [
        "items.listItems",
        "widgets.listWidgets",
    ]


class Upstream:
    """A spec server with an ETag that honours If-None-Match."""

    def __init__(self) -> None:
        self.body = orjson.dumps(BEFORE)
        self.etag = '"v1"'
        self.conditional: list[str | None] = []

    def __call__(self, seen: Seen) -> Reply:
        sent = seen.headers.get("if-none-match")
        self.conditional.append(sent)
        if sent == self.etag:
            return Reply(304, b"", {"etag": self.etag})
        return Reply(200, self.body, {"content-type": "application/json", "etag": self.etag})


def _resource(url: str, status: dict[str, Any] | None) -> Integration:
    return Integration.model_validate(
        {
            "metadata": {"name": "remote", "namespace": "acme", "generation": 1},
            "spec": {
                "kind": "openapi",
                "openapi": {"source": {"url": url}},
                "refresh": {"interval": "1h"},
            },
            "status": status,
        }
    )


async def test_refresh_uses_if_none_match_and_a_304_keeps_everything(
    http_server: LoopbackServer, engine: Engine
) -> None:
    upstream = Upstream()
    http_server.routes["/openapi.json"] = upstream
    url = f"{http_server.url}/openapi.json"
    store = SqlCatalogStore(engine)
    ctx = make_ctx(Path("/nonexistent"))
    registry = PluginRegistry([plugin])
    start = datetime(2026, 1, 1, tzinfo=UTC)

    async def reconcile(status: dict[str, Any] | None, now: datetime) -> IntegrationOutcome:
        outcome = await reconcile_integration(
            _resource(url, status),
            store=store,
            registry=registry,
            ctx=ctx,
            now=now,
            manifest_hash="same",
        )
        assert outcome.error is None, outcome.error
        store.apply(WriteBatch(integrations=[outcome.write] if outcome.write else []))
        return outcome

    first = await reconcile(None, start)
    status = first.status.dump()
    assert status["tools"]["count"] == 2
    assert store.get("acme", "remote").config["etag"] == '"v1"'  # type: ignore[union-attr]

    quiet = await reconcile(status, start + timedelta(minutes=5))
    assert quiet.action == "unchanged"  # not due: nothing fetched
    assert upstream.conditional == [None]

    due = await reconcile(status, start + timedelta(hours=2))
    assert upstream.conditional == [None, '"v1"']
    assert due.action == "update" and due.ready
    assert due.status.tools == first.status.tools
    assert due.status.spec_hash == first.status.spec_hash
    assert due.status.last_success_time == "2026-01-01T02:00:00Z"
    assert due.write is None  # a 304 changes nothing stored: no row is rewritten
    assert store.tool_names("acme", "remote") == ["items.listItems", "items.queryRows"]

    upstream.body, upstream.etag = orjson.dumps(AFTER), '"v2"'
    changed = await reconcile(due.status.dump(), start + timedelta(hours=4))
    assert upstream.conditional[-1] == '"v1"'
    assert changed.status.added_tools == ["widgets.listWidgets"]
    assert changed.status.removed_tools == ["items.queryRows"]
    assert ("Normal", "SpecChanged", "1 tools added, 1 removed") in changed.events
    assert store.get("acme", "remote").config["etag"] == '"v2"'  # type: ignore[union-attr]
    await ctx.http.aclose()  # type: ignore[attr-defined]


async def test_unchanged_spec_is_reused_without_recompiling(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_bytes(orjson.dumps(BEFORE))
    request = RegistrationRequest(tenant="t", slug="s", config={"source": {"file": "spec.json"}})
    first = await plugin.register(request, make_ctx(tmp_path))
    again = await plugin.register(
        RegistrationRequest(
            tenant="t",
            slug="s",
            config={
                "source": {"file": "spec.json"},
                "authenticationMode": "replace",
                "authenticationTemplate": [{"kind": "none", "slug": "open"}],
            },
            previous=first.record,
        ),
        make_ctx(tmp_path),
    )
    assert again.toolset.unchanged is True and again.toolset.tools == []
    assert again.record.spec_hash == first.record.spec_hash
    assert again.details == first.details
    # Auth is recomputed from the stored derivation and the new declaration.
    assert [t["slug"] for t in again.record.config["authenticationTemplate"]] == ["open"]
    moved = await plugin.register(
        RegistrationRequest(
            tenant="t",
            slug="s",
            config={"source": {"file": "spec.json"}, "baseUrl": "https://elsewhere.example"},
            previous=first.record,
        ),
        make_ctx(tmp_path),
    )
    assert moved.toolset.unchanged is False  # a new base URL may move relative OAuth URLs
