"""`kubectl apply -f deploy/examples/` against a real API server: the examples converge to Ready
with the same auth methods file mode derives, the printer columns show them, and applying or
diffing the same files again reports no change."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from cluster.operating import (
    ROOT,
    SWITCHBOARD,
    OperatorFactory,
    condition,
    get_json,
    is_ready,
    wait_until,
)
from harness.gitops import argocd_health, kstatus
from harness.kube import KubeCluster
from switchboard.storage.database import open_database
from switchboard.storage.repository import SqlCatalogStore
from switchboard.storage.tables import IntegrationRow, ToolRow

pytestmark = pytest.mark.cluster

EXAMPLES = ROOT / "deploy" / "examples"
NAMESPACE = "acme"
NAMES = {"petstore", "acme-billing", "weather", "status-page", "countries"}
CONNECTIONS = {"status-page-public", "weather-alice"}


def _integrations(cluster: KubeCluster, *flags: str) -> dict[str, dict[str, Any]]:
    listed = get_json(cluster, "integrations", "-n", NAMESPACE, *flags)
    return {item["metadata"]["name"]: item for item in listed["items"]}


def _connections(cluster: KubeCluster) -> dict[str, dict[str, Any]]:
    listed = get_json(cluster, "connections", "-n", NAMESPACE)
    return {item["metadata"]["name"]: item for item in listed["items"]}


def _file_mode_statuses(tmp_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Reconcile the file-mode examples (same specs, read from files) and read their status."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples", repo / "examples")
    result = subprocess.run(
        [str(SWITCHBOARD), "reconcile", "examples/", "--root", str(repo),
         "--db", f"sqlite:///{tmp_path / 'files.db'}"],
        cwd=repo, capture_output=True, text=True, check=False, timeout=120,
        # The example personal connection reads a (demo) key from the environment.
        env={**os.environ, "WEATHER_APPID": "demo-appid"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = {}
    for path in sorted((repo / "examples").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in ("Integration", "Connection"):
                statuses[(doc["kind"], doc["metadata"]["name"])] = doc["status"]
    return statuses


def test_examples_converge_like_file_mode(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, tmp_path: Path
) -> None:
    operator = start_operator(namespaces=(NAMESPACE,))
    applied = kube_cluster.kubectl("apply", "-f", str(EXAMPLES)).stdout
    assert "integration.switchboard.dev/petstore created" in applied or "configured" in applied

    def all_ready() -> dict[str, dict[str, Any]] | None:
        found = _integrations(kube_cluster)
        return found if set(found) == NAMES and all(map(is_ready, found.values())) else None

    found = wait_until(all_ready, timeout=90, what="every example to be Ready")
    expected = _file_mode_statuses(tmp_path)
    for name in NAMES:
        status, files = found[name]["status"], expected[("Integration", name)]
        assert status["authMethods"] == files["authMethods"], name
        assert status["tools"]["count"] == files["tools"]["count"], name
        assert status["tools"]["digest"] == files["tools"]["digest"], name
        assert status["slug"] == name.replace("-", "_")
    connections = wait_until(
        lambda: (lambda c: c if set(c) == CONNECTIONS and all(map(is_ready, c.values())) else None)(
            _connections(kube_cluster)
        ),
        timeout=60,
        what="every example connection to be Ready",
    )
    for name in CONNECTIONS:
        status, files = connections[name]["status"], expected[("Connection", name)]
        assert status["address"] == files["address"], name
        assert status["tools"]["count"] == files["tools"]["count"], name
    # Argo CD's health check (deploy/argocd/health.lua) and kstatus (Flux) read them as done.
    live = [*found.values(), *connections.values()]
    assert {v["status"] for v in argocd_health(live)} == {"Healthy"}
    assert {v["status"] for v in kstatus(live)} == {"Current"}
    petstore = found["petstore"]["status"]
    assert [m["template"] for m in petstore["authMethods"]][-1] == "partner_key"
    assert condition(found["petstore"], "Mirrored") is not None

    # The mirror holds the same catalog, tenant = namespace.
    engine = open_database(operator.db_url)
    try:
        store = SqlCatalogStore(engine)
        slugs = {r.slug for r in store.list_integrations(NAMESPACE)}
        assert slugs == {n.replace("-", "_") for n in NAMES}
        with engine.connect() as connection:
            rows = connection.execute(
                select(ToolRow.integration, func.count()).where(ToolRow.tenant == NAMESPACE)
                .group_by(ToolRow.integration)
            ).all()  # fmt: skip
            duplicates = connection.execute(
                select(IntegrationRow.slug, func.count()).group_by(
                    IntegrationRow.tenant, IntegrationRow.slug
                ).having(func.count() > 1)
            ).all()  # fmt: skip
        counts = dict(rows)
        for name in NAMES:
            assert counts.get(name.replace("-", "_"), 0) == found[name]["status"]["tools"]["count"]
        assert duplicates == []
    finally:
        engine.dispose()


def test_printer_columns_apply_and_diff_show_no_change(
    kube_cluster: KubeCluster, start_operator: OperatorFactory
) -> None:
    start_operator(namespaces=(NAMESPACE,))
    kube_cluster.kubectl("apply", "-f", str(EXAMPLES))
    wait_until(
        lambda: (
            all(map(is_ready, _integrations(kube_cluster).values()))
            and len(_integrations(kube_cluster)) == len(NAMES)
        ),
        timeout=90,
        what="every example to be Ready",
    )
    table = kube_cluster.kubectl("get", "integrations", "-n", NAMESPACE).stdout.splitlines()
    assert table[0].split() == ["NAME", "SLUG", "KIND", "READY", "AUTH", "TOOLS", "AGE"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows["petstore"][1:4] == ["petstore", "openapi", "True"]
    assert rows["status-page"][4] == "none"  # a public API: one `none` method
    assert int(rows["petstore"][5]) > 0

    before = {n: i["metadata"]["resourceVersion"] for n, i in _integrations(kube_cluster).items()}
    again = kube_cluster.kubectl("apply", "-f", str(EXAMPLES)).stdout.splitlines()
    assert again and all(line.endswith(" unchanged") for line in again), again
    diff = kube_cluster.kubectl("diff", "-f", str(EXAMPLES), check=False)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert diff.stdout == ""
    after = {n: i["metadata"]["resourceVersion"] for n, i in _integrations(kube_cluster).items()}
    assert after == before, "a no-op apply made the operator write"


def test_the_operator_writes_only_status_and_its_own_bookkeeping(
    kube_cluster: KubeCluster, start_operator: OperatorFactory
) -> None:
    start_operator(namespaces=(NAMESPACE,))
    kube_cluster.kubectl("apply", "-f", str(EXAMPLES))
    found = wait_until(
        lambda: (lambda f: f if len(f) == len(NAMES) and all(map(is_ready, f.values())) else None)(
            _integrations(kube_cluster, "--show-managed-fields")
        ),
        timeout=90,
        what="every example to be Ready",
    )
    for name, item in found.items():
        meta = item["metadata"]
        assert meta["finalizers"] == ["switchboard.dev/finalizer"], name
        annotations = meta.get("annotations", {})
        assert not [k for k in annotations if k.startswith("kopf.zalando.org")], annotations
        assert "labels" not in meta
        status = item["status"]
        assert status["observedGeneration"] == meta["generation"]
        for entry in status["conditions"]:
            assert entry["observedGeneration"] == meta["generation"], entry
            assert entry["reason"] and entry["lastTransitionTime"]
        assert not {"reconcile", "kopf"} & set(status), "handler results leaked into status"
        assert meta["managedFields"]
        for managed in meta["managedFields"]:
            if managed["manager"].startswith("kubectl"):
                continue
            touched = set(managed.get("fieldsV1", {}))
            assert touched <= {"f:metadata", "f:status"}, (managed["manager"], touched)
            owned_meta = managed.get("fieldsV1", {}).get("f:metadata", {})
            assert "f:labels" not in owned_meta
            for key in owned_meta.get("f:annotations", {}):
                assert key in (".",) or key.startswith("f:kopf.switchboard.dev/"), key


def test_the_cluster_examples_match_the_schema_and_the_file_mode_specs() -> None:
    """deploy/examples carries the specs file mode reads from examples/specs, inside ConfigMaps;
    they must not drift apart, and every manifest validates against the generated CRD."""
    import jsonschema

    from switchboard.crds import render_crds

    schemas = {
        doc["spec"]["names"]["kind"]: doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for doc in render_crds().values()
    }
    specs = {p.name: p.read_text() for p in (ROOT / "examples" / "specs").iterdir()}
    seen_maps = 0
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc["kind"] in schemas:
                body = {k: v for k, v in doc.items() if k in ("spec", "status")}
                jsonschema.validate(body, schemas[doc["kind"]])
            elif doc["kind"] == "ConfigMap":
                for key, text in doc["data"].items():
                    match = next(n for n in specs if n.split(".")[0] in doc["metadata"]["name"])
                    assert text == specs[match], f"{path.name}: {key} differs from specs/{match}"
                    seen_maps += 1
    assert seen_maps == 4
