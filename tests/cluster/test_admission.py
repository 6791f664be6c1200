"""Bad manifests: what needs no I/O is refused by the webhook at `kubectl apply` time with a message
naming the field; what only I/O can tell becomes Ready=False with a reason, and the others in the
namespace stay Ready."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from cluster.operating import OperatorFactory, condition, get_json, is_ready, wait_until
from harness.http import LoopbackServer, Reply
from harness.kube import KubeCluster

pytestmark = pytest.mark.cluster

SPEC = (
    '{"openapi": "3.0.3", "info": {"title": "Tiny", "version": "1"}, '
    '"paths": {"/ping": {"get": {"operationId": "ping", "responses": {"200": {"description": "ok"}}}}}}'
)


def integration(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    body = {"kind": "openapi", "openapi": {"source": {"inline": SPEC}}, **spec}
    return {
        "apiVersion": "switchboard.dev/v1alpha1",
        "kind": "Integration",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def apply(cluster: KubeCluster, *docs: dict[str, Any]) -> tuple[int, str]:
    result = cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(docs), check=False)
    return result.returncode, result.stdout + result.stderr


REFUSED = [
    pytest.param(
        {"openapi": {"source": {"file": "specs/petstore.yaml"}}},
        "ok-name",
        "spec.openapi.source.file: file sources are only available in file mode",
        id="file-source",
    ),
    pytest.param({}, "switchboard", "metadata.name: 'switchboard' is reserved", id="reserved-name"),
    pytest.param(
        {}, "9-lives", "metadata.name: '9_lives' is not a valid slug", id="bad-derived-slug"
    ),
    pytest.param(
        {"kind": "soap"}, "soapy", "spec.kind: no plugin handles kind 'soap'", id="unknown-kind"
    ),
]


@pytest.mark.parametrize(("spec", "name", "message"), REFUSED)
def test_the_webhook_refuses_with_the_field(
    kube_cluster: KubeCluster,
    start_operator: OperatorFactory,
    namespace: str,
    spec: dict[str, Any],
    name: str,
    message: str,
) -> None:
    start_operator()
    code, output = apply(kube_cluster, integration(namespace, name, **spec))
    assert code != 0, output
    assert "denied the request" in output and message in output, output
    listed = kube_cluster.kubectl("get", "integrations", "-n", namespace, "-o", "name").stdout
    assert listed.strip() == ""


def test_a_slug_used_in_the_namespace_is_refused_but_free_elsewhere(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    start_operator()
    code, output = apply(kube_cluster, integration(namespace, "first", slug="shared"))
    assert code == 0, output
    # The webhook knows objects through its watch: let it see the first one.
    wait_until(
        lambda: condition(get_json(kube_cluster, "integration", "first", "-n", namespace), "Ready"),
        what="the first integration to be seen",
    )
    code, output = apply(kube_cluster, integration(namespace, "second", slug="shared"))
    assert code != 0
    assert "spec.slug: integration 'shared' already exists (declared by first)" in output
    # The derived slug of another name collides too.
    code, output = apply(kube_cluster, integration(namespace, "shared"))
    assert code != 0 and "already exists" in output, output
    # Updating the holder itself is fine.
    code, output = apply(
        kube_cluster, integration(namespace, "first", slug="shared", description="edited")
    )
    assert code == 0, output


def test_what_only_io_can_tell_is_a_condition_and_the_others_stay_ready(
    kube_cluster: KubeCluster,
    start_operator: OperatorFactory,
    namespace: str,
    http_server: LoopbackServer,
) -> None:
    start_operator()
    http_server.routes["/gone.json"] = Reply(404, b"no such spec")
    docs = [
        integration(namespace, "good"),
        integration(
            namespace, "missing-url", openapi={"source": {"url": f"{http_server.url}/gone.json"}}
        ),
        integration(
            namespace,
            "missing-map",
            openapi={"source": {"configMapRef": {"name": "later", "key": "spec.json"}}},
        ),
        integration(namespace, "not-openapi", openapi={"source": {"inline": "just text"}}),
    ]
    code, output = apply(kube_cluster, *docs)
    assert code == 0, output

    def settled() -> dict[str, dict[str, Any]] | None:
        items = {
            i["metadata"]["name"]: i
            for i in get_json(kube_cluster, "integrations", "-n", namespace)["items"]
        }
        done = all(condition(i, "Ready") for i in items.values()) and len(items) == len(docs)
        return items if done else None

    items = wait_until(settled, timeout=60, what="every integration to report Ready")
    assert is_ready(items["good"])
    reasons = {name: condition(items[name], "Ready") for name in items if name != "good"}
    assert reasons["missing-url"]["status"] == "False"
    assert reasons["missing-url"]["reason"] == "SourceNotFound"
    assert "spec.openapi.source.url" in reasons["missing-url"]["message"]
    assert reasons["missing-map"]["reason"] == "SourceNotFound"
    assert reasons["missing-map"]["message"] == (
        f"spec.openapi.source.configMapRef: ConfigMap {namespace}/later does not exist"
    )
    assert reasons["not-openapi"]["reason"] == "SpecInvalid"
    stalled = condition(items["not-openapi"], "Stalled")
    assert stalled is not None and stalled["status"] == "True"

    # The ConfigMap appearing later is noticed without touching the Integration.
    kube_cluster.kubectl(
        "create", "configmap", "later", "-n", namespace, f"--from-literal=spec.json={SPEC}"
    )
    wait_until(
        lambda: is_ready(get_json(kube_cluster, "integration", "missing-map", "-n", namespace)),
        timeout=30,
        what="the ConfigMap's arrival to make the integration Ready",
    )


def test_without_the_webhook_bad_input_is_a_stalled_condition(
    kube_cluster: KubeCluster, start_operator: OperatorFactory, namespace: str
) -> None:
    start_operator(webhook_managed=False)
    kube_cluster.kubectl(
        "delete", "validatingwebhookconfiguration", "switchboard.dev", "--ignore-not-found"
    )
    docs = [
        integration(namespace, "good"),
        integration(namespace, "from-file", openapi={"source": {"file": "specs/x.yaml"}}),
        integration(namespace, "9-lives"),
    ]
    code, output = apply(kube_cluster, *docs)
    assert code == 0, output

    def failed(name: str) -> dict[str, Any] | None:
        item = get_json(kube_cluster, "integration", name, "-n", namespace)
        ready = condition(item, "Ready")
        return ready if ready and ready["status"] == "False" else None

    file_ready = wait_until(lambda: failed("from-file"), what="from-file to fail")
    assert file_ready["reason"] == "InvalidSpec"
    assert file_ready["message"].startswith("spec.openapi.source.file: ")
    slug_ready = wait_until(lambda: failed("9-lives"), what="9-lives to fail")
    assert slug_ready["reason"] == "InvalidSlug"
    assert slug_ready["message"].startswith("metadata.name: ")
    wait_until(
        lambda: is_ready(get_json(kube_cluster, "integration", "good", "-n", namespace)),
        what="the good one to be Ready",
    )
    # Two objects claiming one slug: the first keeps it, the second says why it is not Ready.
    code, output = apply(kube_cluster, integration(namespace, "copy", slug="good"))
    assert code == 0, output
    taken = wait_until(lambda: failed("copy"), what="the copy to be refused")
    assert taken["reason"] == "IntegrationAlreadyExists"
    assert "declared by good" in taken["message"]
    assert is_ready(get_json(kube_cluster, "integration", "good", "-n", namespace))
