"""Smoke test of the cluster tier itself: the apiserver answers kubectl and enforces RBAC."""

from __future__ import annotations

import secrets

import pytest

from harness.kube import KubeCluster, LocalCluster

pytestmark = pytest.mark.cluster


def test_kubectl_lists_the_builtin_namespaces(kube_cluster: KubeCluster) -> None:
    names = kube_cluster.kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system"} <= set(names)


def test_the_kubeconfig_user_may_do_anything(kube_cluster: KubeCluster) -> None:
    result = kube_cluster.kubectl("auth", "can-i", "*", "*", "--all-namespaces")
    assert result.stdout.strip() == "yes"


def test_rbac_limits_a_service_account_to_its_bindings(kube_cluster: KubeCluster) -> None:
    name = f"smoke-{secrets.token_hex(4)}"
    subject = f"system:serviceaccount:default:{name}"

    def can_i(*args: str) -> str:
        result = kube_cluster.kubectl("auth", "can-i", *args, f"--as={subject}", check=False)
        return result.stdout.strip()

    assert can_i("list", "pods") == "no", "RBAC should deny an account with no bindings"
    kube_cluster.kubectl("create", "serviceaccount", name)
    try:
        # An explicit Role: the aggregated ClusterRoles (view, edit, admin) get their rules
        # from kube-controller-manager, which a LocalCluster does not run.
        kube_cluster.kubectl("create", "role", name, "--verb=get,list", "--resource=pods")
        kube_cluster.kubectl(
            "create", "rolebinding", name, f"--role={name}", f"--serviceaccount=default:{name}"
        )
        assert can_i("list", "pods") == "yes", "the binding should allow reading pods"
        assert can_i("list", "secrets") == "no", "the role does not include secrets"
        assert can_i("list", "pods", "-n", "kube-system") == "no", "a Role is namespaced"

        # A real token signed with the service-account key authenticates as that account.
        token = kube_cluster.kubectl("create", "token", name).stdout.strip()
        whoami = kube_cluster.kubectl(
            "auth", "whoami", f"--token={token}", "-o", "jsonpath={.status.userInfo.username}"
        )
        assert whoami.stdout.strip() == subject
        denied = kube_cluster.kubectl("get", "secrets", f"--token={token}", check=False)
        assert denied.returncode != 0
        assert "forbidden" in denied.stderr.lower()
    finally:
        kube_cluster.kubectl("delete", "rolebinding", name, "--ignore-not-found", check=False)
        kube_cluster.kubectl("delete", "role", name, "--ignore-not-found", check=False)
        kube_cluster.kubectl("delete", "serviceaccount", name, "--ignore-not-found", check=False)


def test_local_cluster_tokens_and_attributes(kube_cluster: KubeCluster) -> None:
    if not isinstance(kube_cluster, LocalCluster):
        # An external cluster has no static tokens; the RBAC test above covers it.
        assert kube_cluster.kubeconfig_path.is_file()
        return
    assert kube_cluster.server_url.startswith("https://127.0.0.1:")
    assert kube_cluster.ca_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert kube_cluster.admin_token in kube_cluster.kubeconfig_path.read_text()

    user = kube_cluster.kubectl(
        "auth", "whoami", f"--token={kube_cluster.user_token}",
        "-o", "jsonpath={.status.userInfo.username}",
    )  # fmt: skip
    assert user.stdout.strip() == "switchboard-test-user"
    denied = kube_cluster.kubectl(
        "get", "namespaces", f"--token={kube_cluster.user_token}", check=False
    )
    assert denied.returncode != 0
    assert "forbidden" in denied.stderr.lower()

    anonymous = kube_cluster.kubectl("get", "namespaces", "--token=not-a-token", check=False)
    assert anonymous.returncode != 0
    assert "unauthorized" in anonymous.stderr.lower()
