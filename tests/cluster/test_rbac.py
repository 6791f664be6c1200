"""The chart's RBAC rules are exactly what the operator uses: it runs as the chart's ServiceAccount
through a recording proxy while every feature is exercised; no call may be refused (a missing
verb) and every granted (group, resource, verb) must have been used (an excess verb)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster.operating import (
    OperatorAccount,
    OperatorFactory,
    get_json,
    granted,
    is_ready,
    wait_until,
)
from harness.apiproxy import ApiRecorder
from harness.kube import KubeCluster

pytestmark = pytest.mark.cluster

PEERING = "switchboard-rbac"


def _spec(*operations: str, secured: bool = False) -> str:
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "RBAC", "version": "1"},
        "paths": {
            f"/{op}": {"get": {"operationId": op, "responses": {"200": {"description": "ok"}}}}
            for op in operations
        },
    }
    if secured:
        doc["components"] = {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
        }
        doc["security"] = [{"key": []}]
    return json.dumps(doc)


def _apply(cluster: KubeCluster, *docs: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(docs))


def _get(cluster: KubeCluster, kind: str, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = get_json(cluster, kind, name, "-n", namespace)
    return found


def _exercise(kube_cluster: KubeCluster, namespace: str) -> None:
    """Every feature that needs a permission: watches, finalizers, status, Events, a ConfigMap
    source and its edit, a Secret and its rotation, deletions."""
    integration = {
        "apiVersion": "switchboard.dev/v1alpha1",
        "kind": "Integration",
        "metadata": {"name": "crm", "namespace": namespace},
        "spec": {
            "kind": "openapi",
            "openapi": {"source": {"configMapRef": {"name": "crm", "key": "spec.json"}}},
        },
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "crm", "namespace": namespace},
        "data": {"spec.json": _spec("list", secured=True)},
    }
    _apply(kube_cluster, config_map, integration)
    found = wait_until(
        lambda: (lambda i: i if is_ready(i) else None)(
            _get(kube_cluster, "integration", namespace, "crm")
        ),
        what="the integration Ready",
    )
    template = found["status"]["authMethods"][0]["template"]
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "crm", "namespace": namespace},
        "stringData": {"token": "one"},
    }
    connection = {
        "apiVersion": "switchboard.dev/v1alpha1",
        "kind": "Connection",
        "metadata": {"name": "crm-org", "namespace": namespace},
        "spec": {
            "integration": "crm",
            "owner": {"kind": "org"},
            "template": template,
            "credentials": {"secretRef": {"name": "crm"}},
        },
    }
    _apply(kube_cluster, secret, connection)
    wait_until(
        lambda: is_ready(_get(kube_cluster, "connection", namespace, "crm-org")),
        what="the connection Ready",
    )
    # Dependencies change: the ConfigMap (re-registers) and the Secret (re-resolves).
    config_map["data"] = {"spec.json": _spec("list", "get", secured=True)}
    _apply(kube_cluster, config_map)
    wait_until(
        lambda: (
            _get(kube_cluster, "integration", namespace, "crm")["status"]["tools"]["count"] == 2
        ),
        what="the ConfigMap edit to re-register",
    )
    synced = _get(kube_cluster, "connection", namespace, "crm-org")["status"]["toolsSyncedAt"]
    time.sleep(1.1)  # toolsSyncedAt has second precision
    _apply(kube_cluster, {**secret, "stringData": {"token": "two"}})
    wait_until(
        lambda: (
            _get(kube_cluster, "connection", namespace, "crm-org")["status"].get("toolsSyncedAt")
            != synced
        ),
        timeout=30,
        what="the Secret change to re-resolve the connection",
    )
    kube_cluster.kubectl(
        "delete", "connection,integration", "--all", "-n", namespace, "--timeout=30s"
    )


def test_the_operator_uses_exactly_the_rules_it_is_granted(
    kube_cluster: KubeCluster,
    operator_account: OperatorAccount,
    start_operator: OperatorFactory,
    namespace: str,
    tmp_path: Path,
) -> None:
    kube_cluster.kubectl(
        "apply", "-f", "-",
        input_text=yaml.safe_dump(
            {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": PEERING}}
        ),
    )  # fmt: skip
    with ApiRecorder(operator_account.server, operator_account.ca) as proxy:
        kubeconfig = operator_account.kubeconfig(tmp_path / "proxied", server=proxy.url)
        operator = start_operator(kubeconfig=kubeconfig, peering=PEERING)
        failure: AssertionError | None = None
        try:
            _exercise(kube_cluster, namespace)
        except AssertionError as exc:  # a refused call is the likelier cause: report it first
            failure = exc
        finally:
            operator.stop()
        records = proxy.snapshot()

    refused = sorted({(r.method, r.path, r.status) for r in records if r.status in (401, 403)})
    assert refused == [], f"calls the rules do not allow (a missing verb): {refused}"
    if failure is not None:
        raise failure
    used = {r.rule for r in records if r.resource}
    unused = granted(operator_account.rules) - used
    assert unused == set(), f"granted but never used (an excess verb): {sorted(unused)}"
