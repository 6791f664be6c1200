"""An Integration's life in a cluster: deletion cascades in the database (or is refused when the
plugin says so), a killed operator restarts without duplicates or losses, sources are re-read on
schedule, on request and when their ConfigMap changes, and Events mark transitions only."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from cluster.operating import (
    OperatorFactory,
    condition,
    get_json,
    is_ready,
    plugin_path,
    wait_until,
)
from harness.http import LoopbackServer, Reply, Seen
from harness.kube import KubeCluster
from switchboard.storage.database import open_database
from switchboard.storage.tables import IntegrationRow, ToolRow

pytestmark = pytest.mark.cluster


def openapi(*operations: str, title: str = "Tiny") -> str:
    paths = {
        f"/{op}": {"get": {"operationId": op, "responses": {"200": {"description": "ok"}}}}
        for op in operations
    }
    return json.dumps(
        {"openapi": "3.0.3", "info": {"title": title, "version": "1"}, "paths": paths}
    )


def integration(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "switchboard.dev/v1alpha1",
        "kind": "Integration",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def inline(*operations: str) -> dict[str, Any]:
    return {"kind": "openapi", "openapi": {"source": {"inline": openapi(*operations)}}}


def from_url(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "openapi", "openapi": {"source": {"url": url}}, **extra}


def apply(cluster: KubeCluster, *docs: dict[str, Any]) -> str:
    return cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(docs)).stdout


def item(cluster: KubeCluster, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = get_json(cluster, "integration", name, "-n", namespace)
    return found


def wait_ready(cluster: KubeCluster, namespace: str, name: str, **match: Any) -> dict[str, Any]:
    """The object once Ready for its generation and its status has the `match` values."""

    def probe() -> dict[str, Any] | None:
        found = item(cluster, namespace, name)
        status = found.get("status") or {}
        tools = (status.get("tools") or {}).get("count")
        values = {**status, "toolCount": tools}
        ok = is_ready(found) and all(values.get(k) == v for k, v in match.items())
        return found if ok else None

    return wait_until(probe, timeout=60, what=f"{name} Ready with {match}")


class Catalog:
    """The operator's database, read by the test."""

    def __init__(self, url: str) -> None:
        self.engine = open_database(url)

    def tool_counts(self, tenant: str) -> dict[str, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ToolRow.integration, func.count())
                .where(ToolRow.tenant == tenant, ToolRow.connection == "")
                .group_by(ToolRow.integration)
            ).all()
        return dict(rows)

    def slugs(self, tenant: str) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.scalars(
                    select(IntegrationRow.slug)
                    .where(IntegrationRow.tenant == tenant)
                    .order_by(IntegrationRow.slug)
                )
            )

    def close(self) -> None:
        self.engine.dispose()


def test_deletion_cascades_in_the_database(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    operator = start_operator()
    apply(
        kube_cluster,
        integration(namespace, "keep", inline("a", "b")),
        integration(namespace, "drop", inline("c", "d", "e")),
    )
    wait_ready(kube_cluster, namespace, "keep", toolCount=2)
    wait_ready(kube_cluster, namespace, "drop", toolCount=3)
    catalog = Catalog(operator.db_url)
    try:
        assert catalog.tool_counts(namespace) == {"keep": 2, "drop": 3}
        kube_cluster.kubectl("delete", "integration", "drop", "-n", namespace, "--timeout=30s")
        assert catalog.slugs(namespace) == ["keep"]
        assert catalog.tool_counts(namespace) == {"keep": 2}
    finally:
        catalog.close()


def test_a_slug_rename_moves_the_row(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    operator = start_operator()
    apply(kube_cluster, integration(namespace, "api", {**inline("a"), "slug": "old_name"}))
    wait_ready(kube_cluster, namespace, "api", slug="old_name")
    apply(kube_cluster, integration(namespace, "api", {**inline("a"), "slug": "new_name"}))
    wait_ready(kube_cluster, namespace, "api", slug="new_name")
    catalog = Catalog(operator.db_url)
    try:
        assert catalog.slugs(namespace) == ["new_name"]
    finally:
        catalog.close()


def test_an_integration_its_plugin_locks_is_never_removed(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str, tmp_path: Path
) -> None:
    plugins = plugin_path(tmp_path)
    operator = start_operator(env=plugins)
    apply(kube_cluster, integration(namespace, "vault", {"kind": "locked", "config": {}}))
    found = wait_ready(kube_cluster, namespace, "vault", canRemove=False)
    assert found["status"]["kind"] == "locked"

    refused = kube_cluster.kubectl("delete", "integration", "vault", "-n", namespace, check=False)
    assert refused.returncode != 0
    assert "'vault' cannot be removed (status.canRemove: false)" in refused.stderr

    # Where no webhook is installed, the finalizer refuses instead and says why.
    operator.stop()
    kube_cluster.kubectl(
        "delete", "validatingwebhookconfiguration", "switchboard.dev", "--ignore-not-found"
    )
    operator = start_operator(env=plugins, webhook_managed=False)
    kube_cluster.kubectl("delete", "integration", "vault", "-n", namespace, "--wait=false")

    def refusal() -> dict[str, Any] | None:
        ready = condition(item(kube_cluster, namespace, "vault"), "Ready")
        return ready if ready and ready["reason"] == "RemovalNotAllowed" else None

    ready = wait_until(refusal, timeout=30, what="the refusal condition")
    assert ready["status"] == "False"
    assert "cannot be removed" in ready["message"]
    time.sleep(2)
    still = item(kube_cluster, namespace, "vault")
    assert still["metadata"]["finalizers"] == ["switchboard.dev/finalizer"]
    assert still["metadata"].get("deletionTimestamp")
    catalog = Catalog(operator.db_url)
    try:
        assert catalog.slugs(namespace) == ["vault"]
    finally:
        catalog.close()
    # Only a person can let it go: dropping the finalizer by hand.
    kube_cluster.kubectl(
        "patch", "integration", "vault", "-n", namespace, "--type=merge",
        "-p", '{"metadata":{"finalizers":null}}',
    )  # fmt: skip


def test_a_killed_operator_restarts_with_nothing_duplicated_or_lost(
    kube_cluster: KubeCluster,
    start_operator: OperatorFactory,
    namespace: str,
    http_server: LoopbackServer,
) -> None:
    count = 16
    for n in range(count):
        ops = [f"op{n}x{k}" for k in range(n % 4 + 1)]
        # Slow sources keep registrations in flight when the operator is killed.
        http_server.routes[f"/spec/{n}.json"] = Reply(
            200, openapi(*ops).encode(), {"content-type": "application/json"}, delay=1.0
        )
    # Four registrations at a time, a second each: the kill lands with most still to do.
    slow = ("--concurrency", "4")
    operator = start_operator(extra=slow)
    apply(
        kube_cluster,
        *(
            integration(namespace, f"svc-{n}", from_url(f"{http_server.url}/spec/{n}.json"))
            for n in range(count)
        ),
    )
    catalog = Catalog(operator.db_url)
    try:
        wait_until(lambda: catalog.slugs(namespace), timeout=60, what="a first mirrored row")
        operator.kill()
        mirrored_at_kill = len(catalog.slugs(namespace))
        assert mirrored_at_kill < count, "everything finished before the kill; slow it down"

        start_operator(extra=slow)
        for n in range(count):
            wait_ready(kube_cluster, namespace, f"svc-{n}", toolCount=n % 4 + 1)
        expected = {f"svc_{n}": n % 4 + 1 for n in range(count)}
        assert catalog.tool_counts(namespace) == expected
        assert catalog.slugs(namespace) == sorted(expected)
    finally:
        catalog.close()


def test_sources_are_reread_on_schedule_and_on_request(
    kube_cluster: KubeCluster,
    start_operator: OperatorFactory,
    namespace: str,
    http_server: LoopbackServer,
) -> None:
    served = {"doc": openapi("one")}

    def current(_: Seen) -> Reply:
        return Reply(200, served["doc"].encode(), {"content-type": "application/json"})

    http_server.routes["/live.json"] = current
    start_operator()
    url = f"{http_server.url}/live.json"
    apply(
        kube_cluster,
        integration(namespace, "scheduled", from_url(url, refresh={"interval": "2s"})),
        integration(namespace, "on-request", from_url(url)),
    )
    wait_ready(kube_cluster, namespace, "scheduled", toolCount=1, canRefresh=True)
    wait_ready(kube_cluster, namespace, "on-request", toolCount=1)

    served["doc"] = openapi("one", "two")
    wait_ready(kube_cluster, namespace, "scheduled", toolCount=2)
    assert item(kube_cluster, namespace, "on-request")["status"]["tools"]["count"] == 1

    stamp = "2026-01-02T03:04:05Z"
    kube_cluster.kubectl(
        "annotate", "integration", "on-request", "-n", namespace,
        f"switchboard.dev/refresh-requested-at={stamp}",
    )  # fmt: skip
    found = wait_ready(
        kube_cluster, namespace, "on-request", toolCount=2, lastHandledRefreshAt=stamp
    )
    added = found["status"]["addedTools"]
    assert len(added) == 1 and "two" in added[0], added


def test_a_configmap_edit_reregisters_its_integration(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    def config_map(doc: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "spec", "namespace": namespace},
            "data": {"openapi.json": doc},
        }

    start_operator()
    source = {"configMapRef": {"name": "spec", "key": "openapi.json"}}
    apply(
        kube_cluster,
        config_map(openapi("one")),
        integration(namespace, "mapped", {"kind": "openapi", "openapi": {"source": source}}),
    )
    first = wait_ready(kube_cluster, namespace, "mapped", toolCount=1)
    apply(kube_cluster, config_map(openapi("one", "two", "three")))
    second = wait_ready(kube_cluster, namespace, "mapped", toolCount=3)
    assert second["metadata"]["generation"] == first["metadata"]["generation"]


def _events(cluster: KubeCluster, namespace: str, name: str) -> list[tuple[str, str]]:
    listed = get_json(
        cluster, "events", "-n", namespace, f"--field-selector=involvedObject.name={name}"
    )
    return sorted(
        (e["type"], e["reason"]) for e in listed["items"] for _ in range(e.get("count") or 1)
    )


def test_events_mark_transitions_only(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    start_operator()
    apply(kube_cluster, integration(namespace, "quiet", inline("a")))
    wait_ready(kube_cluster, namespace, "quiet")
    first = wait_until(
        lambda: _events(kube_cluster, namespace, "quiet"), timeout=20, what="the first Event"
    )
    assert first == [("Normal", "Registered")]

    # No-op work: a label, a forced re-read of the same source, another identical apply.
    kube_cluster.kubectl("label", "integration", "quiet", "-n", namespace, "team=payments")
    kube_cluster.kubectl(
        "annotate", "integration", "quiet", "-n", namespace,
        "switchboard.dev/refresh-requested-at=now-1",
    )  # fmt: skip
    wait_ready(kube_cluster, namespace, "quiet", lastHandledRefreshAt="now-1")
    apply(kube_cluster, integration(namespace, "quiet", inline("a")))
    time.sleep(3)  # Events are posted in the background: give a stray one time to appear
    assert _events(kube_cluster, namespace, "quiet") == first

    # A real transition: the source breaks, then is fixed.
    bad = integration(namespace, "quiet", inline("a"))
    bad["spec"]["openapi"]["source"]["inline"] = "not a spec"
    apply(kube_cluster, bad)
    wait_until(
        lambda: ("Warning", "SpecInvalid") in _events(kube_cluster, namespace, "quiet"),
        timeout=30,
        what="a Warning Event for the broken source",
    )
    apply(kube_cluster, integration(namespace, "quiet", inline("a")))
    wait_until(
        lambda: _events(kube_cluster, namespace, "quiet").count(("Normal", "Registered")) == 2,
        timeout=30,
        what="a Normal Event for the fix",
    )
    assert _events(kube_cluster, namespace, "quiet") == [
        ("Normal", "Registered"),
        ("Normal", "Registered"),
        ("Warning", "SpecInvalid"),
    ]
