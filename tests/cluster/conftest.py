"""Fixtures for the cluster tier: a real kube-apiserver, local or named by the environment.

``kube_cluster`` (session) starts a LocalCluster from tests/harness/kube.py (etcd and
kube-apiserver built from tests/kube on first use) and applies ``crds/`` when it holds
manifests. When ``SWITCHBOARD_TEST_KUBECONFIG`` names a kubeconfig, that cluster is used
instead (the CRDs are applied to it too). It fails, never skips, when no cluster comes up.

``operator_account`` installs the operator's ServiceAccount with the chart's RBAC rules;
``start_operator`` runs `switchboard operator` processes as that account for one test.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:  # pyproject's pythonpath normally does this
    sys.path.insert(0, str(TESTS_DIR))

from cluster.operating import OperatorAccount, OperatorFactory  # noqa: E402
from harness.kube import KubeCluster, KubeHarnessError, LocalCluster, has_manifests  # noqa: E402

CRDS_DIR = TESTS_DIR.parent / "crds"
KUBECONFIG_ENV = "SWITCHBOARD_TEST_KUBECONFIG"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cluster: needs a real kube-apiserver (built from Go modules, or "
        "SWITCHBOARD_TEST_KUBECONFIG)",
    )


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeCluster]:
    """A reachable cluster whose kubeconfig grants cluster-admin, with the CRDs applied."""
    crds = CRDS_DIR if has_manifests(CRDS_DIR) else None
    external = os.environ.get(KUBECONFIG_ENV)
    problem = ""
    if external:
        cluster = KubeCluster(external)
        try:
            cluster.kubectl("get", "--raw=/readyz")
            if crds is not None:
                cluster.apply_crds(crds)
        except KubeHarnessError as error:
            problem = f"{KUBECONFIG_ENV}={external} is not usable:\n{error}"
        if problem:
            pytest.fail(problem, pytrace=False)
        yield cluster
        return

    kubeconfig = tmp_path_factory.mktemp("kube") / "kubeconfig"
    local: LocalCluster | None = None
    try:
        local = LocalCluster(kubeconfig, crds_dir=crds).start()
    except KubeHarnessError as error:
        problem = f"the local kube-apiserver did not start:\n{error}"
    if local is None:
        pytest.fail(problem, pytrace=False)
    try:
        yield local
    finally:
        local.stop()


# --------------------------------------------------------------------------------------------
# The operator under test
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def operator_account(kube_cluster: KubeCluster) -> OperatorAccount:
    """The chart's ServiceAccount and RBAC, kopf's peering CRDs, and a token for the account."""
    return OperatorAccount.install(kube_cluster)


@pytest.fixture
def namespace(kube_cluster: KubeCluster) -> str:
    """A fresh namespace (the tenant) for one test. Namespaces cannot be deleted on a cluster
    without a controller-manager, so `start_operator` empties it at the end instead."""
    name = f"t-{secrets.token_hex(4)}"
    kube_cluster.kubectl("create", "namespace", name)
    kube_cluster.kubectl("label", "namespace", name, "switchboard.dev/test=true")
    return name


@pytest.fixture
def start_operator(
    request: pytest.FixtureRequest,
    kube_cluster: KubeCluster,
    operator_account: OperatorAccount,
    tmp_path: Path,
) -> Iterator[OperatorFactory]:
    """Start `switchboard operator` processes; afterwards the test's namespaces are emptied
    (finalizers released by a still-running operator) and every process is stopped."""
    factory = OperatorFactory(kube_cluster, operator_account, tmp_path)
    if "namespace" in request.fixturenames:  # set up first, so it is torn down after this
        factory.namespaces.add(request.getfixturevalue("namespace"))
    try:
        yield factory
    finally:
        factory.cleanup()
