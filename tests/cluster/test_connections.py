"""Connections in a cluster: credentials come from a Secret in the connection's own namespace only,
a Secret change re-resolves the connections that read it (a watch, no polling), values never
reach status, Events, logs or the database, and deletion removes the rows."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from cluster.operating import OperatorFactory, condition, get_json, is_ready, wait_until
from harness.kube import KubeCluster
from switchboard.storage.database import open_database

pytestmark = pytest.mark.cluster

SPEC = json.dumps(
    {
        "openapi": "3.0.3",
        "info": {"title": "CRM", "version": "1"},
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
        },
        "security": [{"key": []}],
        "paths": {
            "/contacts": {
                "get": {"operationId": "listContacts", "responses": {"200": {"description": "ok"}}}
            }
        },
    }
)
PLANTED = "planted-Secret-value-7f3a9c"


def apply(cluster: KubeCluster, *docs: dict[str, Any], check: bool = True) -> tuple[int, str]:
    result = cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(docs), check=check)
    return result.returncode, result.stdout + result.stderr


def crm(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "switchboard.dev/v1alpha1",
        "kind": "Integration",
        "metadata": {"name": "crm", "namespace": namespace},
        "spec": {"kind": "openapi", "openapi": {"source": {"inline": SPEC}}},
    }


def connection(namespace: str, object_name: str, template: str, **spec: Any) -> dict[str, Any]:
    body = {
        "integration": "crm",
        "owner": {"kind": "org"},
        "template": template,
        "credentials": {"secretRef": {"name": "crm-key", "keys": {"token": "api-key"}}},
        **spec,
    }
    return {
        "apiVersion": "switchboard.dev/v1alpha1",
        "kind": "Connection",
        "metadata": {"name": object_name, "namespace": namespace},
        "spec": body,
    }


def secret(namespace: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "crm-key", "namespace": namespace},
        "stringData": {"api-key": value},
    }


def get(cluster: KubeCluster, kind: str, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = get_json(cluster, kind, name, "-n", namespace)
    return found


def ready_template(cluster: KubeCluster, namespace: str) -> str:
    integration = wait_until(
        lambda: (lambda i: i if is_ready(i) else None)(
            get(cluster, "integration", namespace, "crm")
        ),
        what="the integration to be Ready",
    )
    methods = integration["status"]["authMethods"]
    assert [m["kind"] for m in methods] == ["apikey"], methods
    template: str = methods[0]["template"]
    return template


def test_a_secret_change_resolves_the_connection_again(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    operator = start_operator()
    apply(kube_cluster, crm(namespace))
    template = ready_template(kube_cluster, namespace)
    apply(kube_cluster, connection(namespace, "crm-prod", template))

    def reason() -> str | None:
        ready = condition(get(kube_cluster, "connection", namespace, "crm-prod"), "Ready")
        return ready["reason"] if ready else None

    assert wait_until(reason, what="the connection's first verdict") == "CredentialsMissing"

    # The Secret appears: the watch re-resolves the connection; nothing else touches it.
    generation = get(kube_cluster, "connection", namespace, "crm-prod")["metadata"]["generation"]
    apply(kube_cluster, secret(namespace, PLANTED))
    found = wait_until(
        lambda: (lambda c: c if is_ready(c) else None)(
            get(kube_cluster, "connection", namespace, "crm-prod")
        ),
        timeout=30,
        what="the connection to become Ready after its Secret appeared",
    )
    assert found["metadata"]["generation"] == generation
    status = found["status"]
    assert status["address"] == "tools.crm.org.crmProd"
    assert status["tools"]["count"] == 1
    synced = status["toolsSyncedAt"]

    # A rotated value materializes the tools again (what an upstream shows may depend on it).
    time.sleep(1.1)  # toolsSyncedAt has second precision
    apply(kube_cluster, secret(namespace, PLANTED + "-rotated"))
    wait_until(
        lambda: (
            get(kube_cluster, "connection", namespace, "crm-prod")["status"].get("toolsSyncedAt")
            != synced
        ),
        timeout=30,
        what="the rotation to re-sync the tools",
    )

    # A deleted key is noticed as well.
    kube_cluster.kubectl("delete", "secret", "crm-key", "-n", namespace)
    assert wait_until(
        lambda: reason() == "CredentialsMissing", timeout=30, what="the loss of the Secret"
    )

    # Values never leave the Secret: not in status, Events, logs or the database.
    everything = [
        json.dumps(get_json(kube_cluster, "connections,integrations", "-n", namespace)),
        json.dumps(get_json(kube_cluster, "events", "-n", namespace)),
        operator.logs(),
    ]
    engine = open_database(operator.db_url)
    try:
        with engine.connect() as db:
            for table in ("integration", "connection", "tool", "definition"):
                rows = db.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 - fixed names
                everything.append(repr(rows))
    finally:
        engine.dispose()
    for text_ in everything:
        assert PLANTED not in text_


def test_credentials_come_only_from_the_connections_own_namespace(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    start_operator()
    elsewhere = f"{namespace}-other"
    kube_cluster.kubectl("create", "namespace", elsewhere)
    apply(kube_cluster, secret(elsewhere, PLANTED), crm(namespace))
    template = ready_template(kube_cluster, namespace)
    apply(kube_cluster, connection(namespace, "crm-prod", template))
    ready = wait_until(
        lambda: condition(get(kube_cluster, "connection", namespace, "crm-prod"), "Ready"),
        what="a verdict",
    )
    assert ready["status"] == "False" and ready["reason"] == "CredentialsMissing"
    assert f"Secret {namespace}/crm-key not found" in ready["message"]


def test_the_webhook_refuses_file_mode_sources_and_duplicates(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    start_operator()
    from_env = connection(namespace, "env", "apikey", credentials={"env": {"token": "CRM_KEY"}})
    code, output = apply(kube_cluster, from_env, check=False)
    assert code != 0
    assert "spec.credentials.env: environment variables and files are file-mode sources" in output
    nobody = connection(namespace, "nobody", "apikey", owner={"kind": "user"})
    code, output = apply(kube_cluster, nobody, check=False)
    # The CRD's own rule (CEL) already refuses this one, naming the field.
    assert code != 0 and "spec.owner" in output and "subject is required" in output, output

    apply(kube_cluster, connection(namespace, "first", "apikey", name="prod"))
    wait_until(
        lambda: condition(get(kube_cluster, "connection", namespace, "first"), "Ready"),
        what="the first connection to be seen",
    )
    code, output = apply(
        kube_cluster, connection(namespace, "second", "apikey", name="prod"), check=False
    )
    assert code != 0
    assert "connection tools.crm.org.prod (owner org) is already declared by first" in output


def test_without_the_webhook_the_first_declaration_keeps_the_connection(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    start_operator(webhook_managed=False)
    kube_cluster.kubectl(
        "delete", "validatingwebhookconfiguration", "switchboard.dev", "--ignore-not-found"
    )
    apply(kube_cluster, crm(namespace), secret(namespace, PLANTED))
    template = ready_template(kube_cluster, namespace)
    apply(kube_cluster, connection(namespace, "first", template, name="prod"))
    wait_until(
        lambda: is_ready(get(kube_cluster, "connection", namespace, "first")),
        what="the first connection Ready",
    )
    apply(kube_cluster, connection(namespace, "second", template, name="prod"))

    def refused() -> dict[str, Any] | None:
        ready = condition(get(kube_cluster, "connection", namespace, "second"), "Ready")
        return ready if ready and ready["status"] == "False" else None

    ready = wait_until(refused, what="the second declaration to be refused")
    assert ready["reason"] == "ConnectionAlreadyExists"
    assert ready["message"].startswith("spec.name: connection tools.crm.org.prod is already")
    assert is_ready(get(kube_cluster, "connection", namespace, "first"))


def test_deletions_remove_rows_and_connections_follow_their_integration(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    operator = start_operator()
    apply(kube_cluster, crm(namespace), secret(namespace, PLANTED))
    template = ready_template(kube_cluster, namespace)
    apply(
        kube_cluster,
        connection(namespace, "one", template),
        connection(namespace, "two", template, owner={"kind": "user", "subject": "alice"}),
    )
    for name in ("one", "two"):
        wait_until(
            lambda name=name: is_ready(get(kube_cluster, "connection", namespace, name)),
            what=f"connection {name} Ready",
        )
    engine = open_database(operator.db_url)
    try:

        def rows() -> list[tuple[str, str, str]]:
            with engine.connect() as db:
                found = db.execute(
                    text(
                        "SELECT owner, subject, name FROM connection WHERE tenant = :t "
                        "ORDER BY owner, name"
                    ),
                    {"t": namespace},
                ).all()
            return [tuple(r) for r in found]

        assert rows() == [("org", "", "one"), ("user", "alice", "two")]
        kube_cluster.kubectl("delete", "connection", "one", "-n", namespace, "--timeout=30s")
        assert rows() == [("user", "alice", "two")]

        kube_cluster.kubectl("delete", "integration", "crm", "-n", namespace, "--timeout=30s")

        def waiting() -> str | None:
            ready = condition(get(kube_cluster, "connection", namespace, "two"), "Ready")
            return ready["reason"] if ready and ready["status"] == "False" else None

        assert wait_until(waiting, timeout=30, what="the connection to notice") == (
            "IntegrationMissing"
        )
        assert rows() == []
        apply(kube_cluster, crm(namespace))
        wait_until(
            lambda: is_ready(get(kube_cluster, "connection", namespace, "two")),
            timeout=30,
            what="the connection to follow its integration back",
        )
    finally:
        engine.dispose()
