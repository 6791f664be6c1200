"""Running the operator for the cluster tests, the way a cluster runs it: as the chart's
ServiceAccount with exactly the chart's RBAC rules (a real token, so every missing verb is a 403),
as a `switchboard operator` subprocess with its own SQLite database."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from harness.kube import KubeCluster

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "switchboard"
PEERING_CRDS = CHART / "crds" / "kopf-peering.yaml"
SYSTEM_NAMESPACE = "switchboard-system"
ACCOUNT = "switchboard-operator"
WEBHOOK_CONFIG = "switchboard.dev"
WEBHOOK_HOST_ENV = "SWITCHBOARD_TEST_WEBHOOK_HOST"
"""How an external cluster's API server reaches this machine (e.g. kind's gateway 172.18.0.1)."""
SWITCHBOARD = Path(sys.executable).with_name("switchboard")

T = TypeVar("T")


def wait_until(probe: Callable[[], T | None], *, timeout: float = 60.0, what: str = "") -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rbac_rules(*, webhook_managed: bool = True) -> list[dict[str, Any]]:
    """The chart's ClusterRole rules (plus the webhook-configuration rule when the operator
    manages its own webhook configuration)."""
    rules: list[dict[str, Any]] = yaml.safe_load((CHART / "files" / "rbac-rules.yaml").read_text())
    if webhook_managed:
        rules += yaml.safe_load((CHART / "files" / "rbac-webhook-rules.yaml").read_text())
    return rules


def granted(rules: Sequence[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """Every (group, resource, verb) the rules allow."""
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def endpoint(cluster: KubeCluster) -> tuple[str, bytes]:
    """The API server URL and CA certificate from the cluster's (admin) kubeconfig."""
    config = yaml.safe_load(cluster.kubeconfig_path.read_text())
    context_name = config["current-context"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
    entry = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    if "certificate-authority-data" in entry:
        ca = base64.b64decode(entry["certificate-authority-data"])
    else:
        ca = Path(entry["certificate-authority"]).read_bytes()
    return entry["server"], ca


def write_kubeconfig(path: Path, server: str, token: str, ca: bytes | None) -> Path:
    """A kubeconfig for `server` (https with `ca`, or plain http through a recording proxy)."""
    cluster: dict[str, Any] = {"server": server}
    if server.startswith("https://") and ca is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster}],
        "users": [{"name": ACCOUNT, "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": ACCOUNT}}],
        "current-context": "test",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


@dataclass
class OperatorAccount:
    """The operator's ServiceAccount on the test cluster, and a token for it."""

    cluster: KubeCluster
    server: str
    ca: bytes
    token: str
    rules: list[dict[str, Any]]

    @classmethod
    def install(cls, cluster: KubeCluster) -> OperatorAccount:
        cluster.kubectl("apply", "--server-side", "-f", str(PEERING_CRDS))
        cluster.kubectl("wait", "--for=condition=Established", "-f", str(PEERING_CRDS))
        rules = rbac_rules()
        manifests = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SYSTEM_NAMESPACE}},
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": ACCOUNT, "namespace": SYSTEM_NAMESPACE},
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": ACCOUNT},
                "rules": rules,
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": ACCOUNT},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": ACCOUNT,
                },
                "subjects": [
                    {"kind": "ServiceAccount", "name": ACCOUNT, "namespace": SYSTEM_NAMESPACE}
                ],
            },
        ]
        cluster.kubectl(
            "apply", "--server-side", "--force-conflicts", "-f", "-",
            input_text=yaml.safe_dump_all(manifests),
        )  # fmt: skip
        token = cluster.kubectl(
            "create", "token", ACCOUNT, "-n", SYSTEM_NAMESPACE, "--duration=6h"
        ).stdout.strip()
        server, ca = endpoint(cluster)
        return cls(cluster=cluster, server=server, ca=ca, token=token, rules=rules)

    def kubeconfig(self, path: Path, *, server: str | None = None) -> Path:
        return write_kubeconfig(path, server or self.server, self.token, self.ca)


@dataclass
class Operator:
    """One `switchboard operator` process."""

    kubeconfig: Path
    db_url: str
    workdir: Path
    watch: Sequence[str] = ()
    """Namespaces to watch (`--namespace`); empty: cluster-wide, as the chart runs it."""
    webhook_managed: bool = True
    priority: int | None = None
    peering: str = "switchboard-test"
    env: dict[str, str] = field(default_factory=dict)
    extra: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None
    health_port: int = 0
    webhook_port: int = 0
    log_path: Path = Path()

    def command(self) -> list[str]:
        self.health_port = free_port()
        self.webhook_port = free_port()
        host = os.environ.get(WEBHOOK_HOST_ENV)
        command = [
            str(SWITCHBOARD), "operator",
            "--kubeconfig", str(self.kubeconfig),
            "--db", self.db_url,
            "--liveness", f"http://127.0.0.1:{self.health_port}/healthz",
            "--webhook-port", str(self.webhook_port),
            "--webhook-config", WEBHOOK_CONFIG if self.webhook_managed else "",
            "--peering", self.peering,
            "--log-format", "json",
        ]  # fmt: skip
        if host:
            command += ["--webhook-listen", "0.0.0.0", "--webhook-host", host]  # noqa: S104
        if self.priority is not None:
            command += ["--priority", str(self.priority)]
        for namespace in self.watch:
            command += ["--namespace", namespace]
        return [*command, *self.extra]

    def start(self, *, timeout: float = 60.0) -> Operator:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / f"operator-{int(time.time() * 1000)}.log"
        env = {**os.environ, "SWITCHBOARD_OUTBOUND_ALLOW": "127.0.0.0/8,::1", **self.env}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir
            )
        wait_until(self.healthy, timeout=timeout, what=f"operator liveness ({self.log_path})")
        return self

    def healthy(self) -> dict[str, Any] | None:
        if self.process is None or self.process.poll() is not None:
            raise AssertionError(f"the operator exited:\n{self.logs()[-4000:]}")
        url = f"http://127.0.0.1:{self.health_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: dict[str, Any] = json.loads(response.read() or b"{}")
                return body or {"ok": True}
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines (the operator logs structured records only)."""
        return [json.loads(line) for line in self.logs().splitlines() if line.startswith("{")]

    def stop(self, *, timeout: float = 30.0) -> int | None:
        """SIGTERM (kopf cleans up: peering record, webhook configuration), then wait."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as when a node dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class OperatorFactory:
    """Starts operators for one test; at the end, deletes what the test left in its namespaces
    (while an operator still runs to release the finalizers) and stops them all."""

    def __init__(self, cluster: KubeCluster, account: OperatorAccount, tmp_path: Path) -> None:
        self.cluster = cluster
        self.account = account
        self.tmp_path = tmp_path
        self.db_url = f"sqlite:///{tmp_path / 'catalog.db'}"
        self.started: list[Operator] = []
        self.namespaces: set[str] = set()

    def __call__(self, *, namespaces: Sequence[str] = (), **options: Any) -> Operator:
        """A started operator (cluster-wide); `namespaces` are the ones this test fills, emptied
        at the end."""
        index = len(self.started)
        self.namespaces.update(namespaces)
        kubeconfig = options.pop("kubeconfig", None) or self.account.kubeconfig(
            self.tmp_path / f"operator-{index}.kubeconfig"
        )
        operator = Operator(
            kubeconfig=kubeconfig,
            db_url=options.pop("db_url", self.db_url),
            workdir=self.tmp_path / f"operator-{index}",
            **options,
        )
        self.started.append(operator)
        operator.start()
        if operator.webhook_managed:
            self.wait_for_webhook(operator)
        return operator

    def wait_for_webhook(self, operator: Operator) -> None:
        """The API server calls this operator's webhook once kopf has patched the config."""
        port = f":{operator.webhook_port}/"

        def patched() -> bool:
            found = self.cluster.kubectl(
                "get", "validatingwebhookconfiguration", WEBHOOK_CONFIG,
                "-o", "jsonpath={.webhooks[*].clientConfig.url}", check=False,
            )  # fmt: skip
            return port in found.stdout

        wait_until(patched, timeout=30, what="the webhook configuration to name this operator")

    def cleanup(self) -> None:
        namespaces = sorted(self.namespaces)
        try:
            if any(o.process and o.process.poll() is None for o in self.started):
                for name in namespaces:
                    self.cluster.kubectl(
                        "delete", "integrations,connections", "--all", "-n", name,
                        "--timeout=30s", check=False,
                    )  # fmt: skip
        finally:
            for operator in self.started:
                operator.stop()
        for name in namespaces:  # whatever is left (a refused deletion): drop our finalizer
            listed = self.cluster.kubectl(
                "get", "integrations,connections", "-n", name, "-o", "name", check=False
            ).stdout.split()
            for item in listed:
                self.cluster.kubectl(
                    "patch", item, "-n", name, "--type=merge",
                    "-p", '{"metadata":{"finalizers":null}}', check=False,
                )  # fmt: skip


def get_json(cluster: KubeCluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for entry in (obj.get("status") or {}).get("conditions") or []:
        if entry.get("type") == type_:
            return dict(entry)
    return None


def is_ready(obj: dict[str, Any]) -> bool:
    """Ready=True for the object's current generation."""
    ready = condition(obj, "Ready")
    status = obj.get("status") or {}
    return bool(
        ready
        and ready["status"] == "True"
        and status.get("observedGeneration") == obj["metadata"].get("generation")
    )


PLUGINS = Path(__file__).resolve().parent / "plugins"


def plugin_path(tmp_path: Path) -> dict[str, str]:
    """Environment that installs the test plugins (tests/cluster/plugins) through a dist-info
    with `switchboard.plugins` entry points, as `pip install` would."""
    dist = tmp_path / "site" / "switchboard_test_plugins-1.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: switchboard-test-plugins\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[switchboard.plugins]\nlocked = switchboard_locked:plugin\n"
    )
    paths = [str(dist.parent), str(PLUGINS), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}
