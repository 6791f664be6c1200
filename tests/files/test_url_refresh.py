"""File mode re-reads a URL source when its refresh interval has passed, even if no file changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness.http import LoopbackServer, Reply, Seen
from switchboard.config import Settings
from switchboard.context import AppContext
from switchboard.reconcile.files import FileReconciler
from switchboard.storage.manifests import ManifestRepository

SPEC = b"""{"openapi": "3.0.0", "info": {"title": "Remote"}, "servers": [{"url": "/api"}],
 "paths": {"/a": {"get": {"operationId": "getA", "responses": {"200": {"description": "ok"}}}}}}"""


async def test_due_refresh_rereads_with_if_none_match(
    tmp_path: Path, http_server: LoopbackServer
) -> None:
    body = {"spec": SPEC}

    def serve(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"v1"' and body["spec"] == SPEC:
            return Reply(304, b"", {"etag": '"v1"'})
        etag = '"v1"' if body["spec"] == SPEC else '"v2"'
        return Reply(200, body["spec"], {"content-type": "application/json", "etag": etag})

    http_server.routes["/openapi.json"] = serve
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "manifests/remote.yaml").write_text(
        "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\n"
        "metadata: {name: remote, namespace: acme}\n"
        f"spec:\n  kind: openapi\n  openapi:\n    source: {{url: '{http_server.url}/openapi.json'}}\n"
        "  refresh: {interval: 1h}\n"
    )
    settings = Settings(db=f"sqlite:///{tmp_path / 'c.db'}", outbound_allow=["127.0.0.0/8"])
    context = AppContext.create(settings)
    manifests = ManifestRepository(repo)
    start = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    async def run(at: datetime) -> list[str]:
        reconciler = FileReconciler(
            manifests=manifests,
            store=context.store,
            registry=context.registry,
            ctx=context.plugin_context(root=repo),
            now=at,
        )
        report = await reconciler.run([repo / "manifests"], dry_run=False, prune=True)
        return [r.action for r in report.resources if r.kind == "Integration"]

    try:
        assert await run(start) == ["create"]
        assert await run(start + timedelta(minutes=30)) == ["unchanged"]
        assert len(http_server.requests) == 1  # not due yet: nothing fetched
        assert await run(start + timedelta(hours=1, minutes=1)) == ["update"]
        assert http_server.requests[-1].headers.get("if-none-match") == '"v1"'
        assert context.store.tool_names("acme", "remote") == ["a.getA"]
        body["spec"] = SPEC.replace(b"getA", b"getB").replace(b'"/a"', b'"/b"')
        assert await run(start + timedelta(hours=2, minutes=2)) == ["update"]
        assert context.store.tool_names("acme", "remote") == ["b.getB"]
        status = (repo / "manifests/remote.yaml").read_text()
        assert "addedTools:\n    - b.getB" in status
    finally:
        await context.aclose()
