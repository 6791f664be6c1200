"""Running the operator: the liveness endpoint checks the database, every log line is a JSON
record, and replicas peer (the highest priority works, a lower one stands by and takes over)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster.operating import (
    SWITCHBOARD,
    OperatorAccount,
    OperatorFactory,
    free_port,
    get_json,
    is_ready,
    wait_until,
)
from harness.kube import KubeCluster
from switchboard.storage.database import open_database
from switchboard.storage.repository import SqlCatalogStore

pytestmark = pytest.mark.cluster

SPEC = json.dumps(
    {
        "openapi": "3.0.3",
        "info": {"title": "Peer", "version": "1"},
        "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "ok"}}}}},
    }
)


def integration(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "switchboard.dev/v1alpha1",
        "kind": "Integration",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"kind": "openapi", "openapi": {"source": {"inline": SPEC}}},
    }


def slugs(db_url: str, tenant: str) -> list[str]:
    engine = open_database(db_url)
    try:
        return [r.slug for r in SqlCatalogStore(engine).list_integrations(tenant)]
    finally:
        engine.dispose()


def test_liveness_and_structured_logs(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    operator = start_operator()
    kube_cluster.kubectl(
        "apply", "-f", "-", input_text=yaml.safe_dump(integration(namespace, "probe"))
    )
    wait_until(
        lambda: is_ready(get_json(kube_cluster, "integration", "probe", "-n", namespace)),
        what="the integration Ready",
    )
    url = f"http://127.0.0.1:{operator.health_port}/healthz"

    def health() -> dict[str, Any] | None:
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
            found: dict[str, Any] = json.loads(response.read())["catalog"]
        return found if found["reconciles"] >= 1 else None  # kopf caches probes for 10 s

    assert wait_until(health, timeout=20, what="a probe after the reconcile")["database"] == "ok"

    operator.stop()
    lines = [line for line in operator.logs().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON record
    assert all({"message", "severity", "timestamp"} <= set(r) for r in records)
    mine = [r for r in records if (r.get("object") or {}).get("name") == "probe"]
    assert any(r["message"].startswith("create: slug=probe ready=True") for r in mine), mine


def test_replicas_peer_the_highest_priority_works(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str, tmp_path: Path
) -> None:
    peering = f"switchboard-{namespace}"
    kube_cluster.kubectl(
        "apply", "-f", "-",
        input_text=yaml.safe_dump(
            {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": peering}}
        ),
    )  # fmt: skip
    standby = start_operator(
        peering=peering, priority=100, webhook_managed=False, db_url=f"sqlite:///{tmp_path}/a.db"
    )
    active = start_operator(
        peering=peering, priority=200, webhook_managed=False, db_url=f"sqlite:///{tmp_path}/b.db"
    )
    wait_until(
        lambda: "Pausing operations in favour of" in standby.logs(),
        timeout=30,
        what="the lower-priority replica to stand by",
    )
    peers = get_json(kube_cluster, "clusterkopfpeering", peering)["status"]
    assert sorted(p["priority"] for p in peers.values()) == [100, 200]

    kube_cluster.kubectl(
        "apply", "-f", "-", input_text=yaml.safe_dump(integration(namespace, "first"))
    )
    wait_until(
        lambda: is_ready(get_json(kube_cluster, "integration", "first", "-n", namespace)),
        what="the active replica to reconcile",
    )
    assert slugs(active.db_url, namespace) == ["first"]
    assert slugs(standby.db_url, namespace) == []

    active.stop()  # a clean exit withdraws it from the peering object at once
    wait_until(
        lambda: "Resuming operations after the pause" in standby.logs(),
        timeout=30,
        what="the standby to take over",
    )
    kube_cluster.kubectl(
        "apply", "-f", "-", input_text=yaml.safe_dump(integration(namespace, "second"))
    )
    wait_until(
        lambda: is_ready(get_json(kube_cluster, "integration", "second", "-n", namespace)),
        what="the former standby to reconcile",
    )
    assert "second" in slugs(standby.db_url, namespace)


def test_the_handlers_run_under_plain_kopf(
    kube_cluster: KubeCluster,
    operator_account: OperatorAccount,
    namespace: str,
    tmp_path: Path,
) -> None:
    """`kopf run -m switchboard.handlers`: the same handlers, configured from the environment
    (SWITCHBOARD_DB, KUBECONFIG), with no webhook configuration named."""
    kubeconfig = operator_account.kubeconfig(tmp_path / "kopf.kubeconfig")
    port = free_port()
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "SWITCHBOARD_DB": f"sqlite:///{tmp_path / 'kopf.db'}",
    }
    log = (tmp_path / "kopf.log").open("wb")
    process = subprocess.Popen(
        [str(SWITCHBOARD.with_name("kopf")), "run", "-m", "switchboard.handlers",
         "--all-namespaces", "--standalone", f"--liveness=http://127.0.0.1:{port}/healthz"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        kube_cluster.kubectl(
            "apply", "-f", "-", input_text=yaml.safe_dump(integration(namespace, "plain"))
        )
        wait_until(
            lambda: is_ready(get_json(kube_cluster, "integration", "plain", "-n", namespace)),
            timeout=60,
            what=f"plain kopf to reconcile ({tmp_path / 'kopf.log'})",
        )
        assert slugs(env["SWITCHBOARD_DB"], namespace) == ["plain"]
        kube_cluster.kubectl("delete", "integration", "plain", "-n", namespace, "--timeout=30s")
        assert slugs(env["SWITCHBOARD_DB"], namespace) == []
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()
