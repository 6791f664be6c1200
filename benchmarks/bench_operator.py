"""Operator at scale (issue 3): 1,000 Integration resources with inline specs applied at once to a
local kube-apiserver (built from Go modules, on this machine) and reconciled by `switchboard
operator`: time until all are Ready, reconciles per second, API requests per reconcile (counted
by a recording proxy, in a second run so the proxy does not slow the timed one) and peak RSS.

Floors measured in the same run: the apply alone (the API server storing the objects, webhook
included) and file mode reconciling the same 1,000 manifests (the registration work alone).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_catalog import generate, reconcile
from benchmarks.measure import Row, isolated

ROOT = Path(__file__).resolve().parents[1]
COUNT = 1_000
NAMESPACE = "bench"
TARGET_SECONDS = 60.0
TARGET_MB = 400.0
READS = {"get", "list", "watch"}
APPLY_WORKERS = 16
"""Concurrent server-side applies: "applied at once", as a GitOps sync does it."""
SWITCHBOARD = Path(sys.executable).with_name("switchboard")


def _harness() -> Any:
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from harness import apiproxy, kube

    return kube, apiproxy


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _kubeconfig(path: Path, server: str, token: str, ca: bytes) -> Path:
    import base64

    cluster = {"server": server}
    if server.startswith("https://"):
        cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "bench", "cluster": cluster}],
                "users": [{"name": "bench", "user": {"token": token}}],
                "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}],
                "current-context": "bench",
            }
        )
    )
    return path


@dataclass
class ReadyWatch:
    """Counts objects Ready for their generation, from a watch stream (no polling)."""

    server: str
    token: str
    ca: bytes
    ready: set[str] = field(default_factory=set)
    done: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        import ssl

        context = ssl.create_default_context(cadata=self.ca.decode())
        url = f"{self.server}/apis/switchboard.dev/v1alpha1/namespaces/{NAMESPACE}/integrations"
        headers = {"authorization": f"Bearer {self.token}"}
        with httpx.Client(verify=context, timeout=httpx.Timeout(90.0)) as client:
            while not self.stopping.is_set():
                params = {"watch": "1", "timeoutSeconds": "60"}
                with client.stream("GET", url, params=params, headers=headers) as stream:
                    if stream.status_code != 200:
                        time.sleep(0.5)
                        continue
                    for line in stream.iter_lines():
                        event = json.loads(line) if line else {}
                        if event.get("type") in ("ADDED", "MODIFIED"):
                            self._see(event["object"])
                        if self.done.is_set():
                            return

    def _see(self, obj: dict[str, Any]) -> None:
        status = obj.get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        if ready and status.get("observedGeneration") == obj["metadata"].get("generation"):
            self.ready.add(obj["metadata"]["name"])
        if len(self.ready) >= COUNT:
            self.done.set()


@dataclass
class Converged:
    seconds: float
    apply_seconds: float
    operator_mb: float
    apiserver_mb: float
    etcd_mb: float
    requests: Counter[str] = field(default_factory=Counter)
    restart_seconds: float = 0.0
    restart_requests: Counter[str] = field(default_factory=Counter)


def _operator(config: Path, database: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    health = _free_port()
    env = {**os.environ, "SWITCHBOARD_DB": f"sqlite:///{database}"}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(SWITCHBOARD), "operator", "--kubeconfig", str(config), "--standalone",
             "--webhook-port", str(_free_port()), "--liveness", f"http://127.0.0.1:{health}/healthz"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    _wait_healthy(process, health)
    return process, health


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _reconciles(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return int(json.loads(response.read())["catalog"]["reconciles"])


def _count(records: list[Any]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for record in records:
        if record.resource:
            _group, resource, verb = record.rule
            counted[f"{verb} {resource}"] += 1
    return counted


def _converge(work: Path, *, proxied: bool) -> Converged:
    kube, apiproxy = _harness()
    name = "proxied" if proxied else "direct"
    with kube.LocalCluster(work / "admin.kubeconfig", crds_dir=ROOT / "crds") as cluster:
        cluster.kubectl("create", "namespace", NAMESPACE)
        proxy = apiproxy.ApiRecorder(cluster.server_url, cluster.ca_pem) if proxied else None
        server = proxy.start().url if proxy else cluster.server_url
        config = _kubeconfig(
            work / "operator.kubeconfig", server, cluster.admin_token, cluster.ca_pem
        )
        database, log = work / f"operator-{name}.db", work / f"operator-{name}.log"
        operator, _ = _operator(config, database, log)
        try:
            watch = ReadyWatch(cluster.server_url, cluster.admin_token, cluster.ca_pem)
            watcher = threading.Thread(target=watch.run, daemon=True)
            watcher.start()
            docs = _manifests(work / "manifests")
            if proxy is not None:
                proxy.clear()
            started = time.perf_counter()
            asyncio.run(_apply_at_once(cluster, docs))
            applied = time.perf_counter() - started
            if not watch.done.wait(600):
                raise RuntimeError(f"only {len(watch.ready)} of {COUNT} Ready after 600 s")
            seconds = time.perf_counter() - started
            watch.stopping.set()
            result = Converged(
                seconds=seconds,
                apply_seconds=applied,
                operator_mb=_peak_mb(operator.pid),
                apiserver_mb=_peak_mb(cluster.pids["kube-apiserver"]),
                etcd_mb=_peak_mb(cluster.pids["etcd"]),
            )
            if proxy is not None:
                time.sleep(3)  # Events and trailing patches of the last reconciles
                result.requests = _count(proxy.snapshot())
                _stop(operator)
                # A restart over 1,000 unchanged objects: every one is resumed, none written.
                proxy.clear()
                started = time.perf_counter()
                operator, health = _operator(config, database, log)
                deadline = time.monotonic() + 300
                while _reconciles(health) < COUNT and time.monotonic() < deadline:
                    time.sleep(1)  # kopf caches probe results for 10 s: an upper bound
                result.restart_seconds = time.perf_counter() - started
                result.restart_requests = _count(proxy.snapshot())
        finally:
            _stop(operator)
            if proxy is not None:
                proxy.stop()
    return result


def _manifests(folder: Path) -> list[dict[str, Any]]:
    import yaml

    return [
        doc
        for path in sorted(folder.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


async def _apply_at_once(cluster: Any, docs: list[dict[str, Any]]) -> None:
    """Server-side apply of every manifest by many workers at once, as a GitOps controller
    syncing a large application does (kubectl applies one object after another)."""
    import ssl

    context = ssl.create_default_context(cadata=cluster.ca_pem.decode())
    headers = {
        "authorization": f"Bearer {cluster.admin_token}",
        "content-type": "application/apply-patch+yaml",
    }
    base = f"{cluster.server_url}/apis/switchboard.dev/v1alpha1/namespaces/{NAMESPACE}"
    gate = asyncio.Semaphore(APPLY_WORKERS)
    async with httpx.AsyncClient(verify=context, headers=headers, timeout=120) as client:

        async def one(doc: dict[str, Any]) -> None:
            async with gate:
                response = await client.patch(
                    f"{base}/integrations/{doc['metadata']['name']}",
                    params={"fieldManager": "bench", "force": "true"},
                    content=json.dumps(doc),
                )
                response.raise_for_status()

        await asyncio.gather(*(one(doc) for doc in docs))


def _wait_healthy(operator: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if operator.poll() is not None:
            raise RuntimeError("the operator exited during start-up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError("the operator did not become healthy")


def run() -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="sb-bench-operator-"))
    case = f"{COUNT:,} integrations"
    try:
        generate(work, COUNT)
        files = isolated(reconcile, str(work), f"sqlite:///{work / 'files.db'}")
        direct = _converge(work, proxied=False)
        counted = _converge(work, proxied=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = sum(counted.requests.values())
    machine_mb = direct.operator_mb + direct.apiserver_mb + direct.etcd_mb
    return [
        Row("operator", case, "apply (16 server-side workers)", direct.apply_seconds, "s"),
        Row("operator", case, "floor: file mode, same manifests", files.seconds, "s"),
        Row(
            "operator",
            case,
            "time until all Ready",
            direct.seconds,
            "s",
            target=f"<= {TARGET_SECONDS:g} s",
            ok=direct.seconds <= TARGET_SECONDS,
        ),
        Row("operator", case, "all Ready / file mode", direct.seconds / files.seconds, "x"),
        Row("operator", case, "reconciles per second", COUNT / direct.seconds, "1/s"),
        Row(
            "operator",
            case,
            "API requests per reconcile",
            total / COUNT,
            "req",
            extra={"by verb": dict(counted.requests.most_common())},
        ),
        Row(
            "operator",
            case,
            "operator peak RSS",
            direct.operator_mb,
            "MB",
            target=f"<= {TARGET_MB:g} MB",
            ok=direct.operator_mb <= TARGET_MB,
        ),
        Row(
            "operator",
            case,
            "kube-apiserver + etcd peak RSS",
            direct.apiserver_mb + direct.etcd_mb,
            "MB",
        ),
        Row("operator", case, "machine total peak RSS", machine_mb, "MB"),
        Row("operator", case, "time until all Ready (proxied run)", counted.seconds, "s"),
        Row(
            "operator",
            case,
            "restart: all resumed within (probe-bounded)",
            counted.restart_seconds,
            "s",
        ),
        Row(
            "operator",
            case,
            "restart: API writes for unchanged objects",
            sum(n for k, n in counted.restart_requests.items() if k.split()[0] not in READS),
            "req",
            extra={"by verb": dict(counted.restart_requests.most_common())},
        ),
    ]
