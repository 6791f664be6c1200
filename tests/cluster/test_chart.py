"""The Helm chart, rendered by a real helm (built from tests/helm on first use): it grants exactly
the rules the RBAC test checks, installs the webhooks the operator serves, carries the CRDs, and
every object it renders is accepted by a real API server (server-side dry run)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from cluster.charting import helm, pinned_version
from cluster.operating import CHART, ROOT
from harness.kube import KubeCluster
from switchboard.handlers.webhooks import chart_entries, chart_yaml

pytestmark = pytest.mark.cluster

RELEASE = "sb"
NAMESPACE = "switchboard-chart"


def render(*flags: str) -> list[dict[str, Any]]:
    text = helm(
        "template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--include-crds",
        "--kube-version", "1.32.0", *flags,
    )  # fmt: skip
    return [doc for doc in yaml.safe_load_all(text) if doc]


def only(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, [d["metadata"]["name"] for d in found]
    return found[0]


def test_the_chart_lints() -> None:
    assert "0 chart(s) failed" in helm("lint", str(CHART), "--kube-version", "1.32.0")


def test_the_chart_grants_the_tested_rules_and_installs_the_served_webhooks() -> None:
    docs = render()
    rules = yaml.safe_load((CHART / "files" / "rbac-rules.yaml").read_text())
    assert only(docs, "ClusterRole")["rules"] == rules
    assert (CHART / "files" / "webhooks.yaml").read_text() == chart_yaml(), (
        "charts/switchboard/files/webhooks.yaml is stale: write "
        "switchboard.handlers.webhooks.chart_yaml() to it"
    )

    configuration = only(docs, "ValidatingWebhookConfiguration")
    installed = configuration["webhooks"]
    expected = chart_entries()
    strip = lambda hook: {k: v for k, v in hook.items() if k != "clientConfig"}  # noqa: E731
    assert [strip(h) for h in installed] == [strip(h) for h in expected]
    secret = only(docs, "Secret")
    ca = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["ca.crt"]))
    serving = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    serving.verify_directly_issued_by(ca)
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert f"sb-switchboard-webhook.{NAMESPACE}.svc" in names.get_values_for_type(x509.DNSName)
    for hook, want in zip(installed, expected, strict=True):
        service = hook["clientConfig"]["service"]
        assert service == {
            "name": "sb-switchboard-webhook",
            "namespace": NAMESPACE,
            "port": 443,
            "path": want["clientConfig"]["service"]["path"],
        }
        assert hook["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]

    container = only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[0] == "operator" and "--webhook-config=" in args
    assert "--webhook-cert=/tls/tls.crt" in args and "--webhook-listen=0.0.0.0" in args
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"name": "POD_ID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} in (
        container["env"]
    )

    crds = {d["metadata"]["name"]: d for d in docs if d["kind"] == "CustomResourceDefinition"}
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        generated = yaml.safe_load(path.read_text())
        assert crds[generated["metadata"]["name"]] == generated
    assert {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"} <= set(crds)


def test_without_the_webhook_nothing_of_it_is_rendered() -> None:
    docs = render("--set", "webhook.enabled=false")
    kinds = {d["kind"] for d in docs}
    assert not {"ValidatingWebhookConfiguration", "Service", "Secret"} & kinds
    args = only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert not [a for a in args if a.startswith("--webhook-cert")]


def test_every_rendered_object_is_accepted_by_the_api_server(
    kube_cluster: KubeCluster, operator_account: object, tmp_path: Path
) -> None:
    """(`operator_account` installs kopf's peering CRDs, which the chart's peering object needs.)"""
    docs = render("--set", "database.existingSecret=catalog-db", "--set", "replicas=2")
    manifest = tmp_path / "chart.yaml"
    manifest.write_text(yaml.safe_dump_all(docs))
    kube_cluster.kubectl("create", "namespace", NAMESPACE, check=False)
    result = kube_cluster.kubectl(
        "apply", "--dry-run=server", "--server-side", "--force-conflicts", "-f", str(manifest),
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "validatingwebhookconfiguration.admissionregistration.k8s.io/sb-switchboard" in (
        result.stdout
    )


def test_helm_is_the_pinned_release() -> None:
    assert helm("version", "--short").startswith(pinned_version())
