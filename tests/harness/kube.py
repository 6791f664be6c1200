"""Local kube-apiserver + etcd for the cluster tests: build cache, context manager, up/down CLI.

The two programs are compiled with ``go build`` from the Go module in ``tests/kube`` (which pins
k8s.io/kubernetes and go.etcd.io/etcd/server/v3) into a per-version cache outside the repository,
then started on loopback with throwaway certificates, a static admin token and RBAC on. There is
no controller-manager, scheduler or kubelet: objects are stored and served, nothing runs them.

From Python::

    with LocalCluster(kubeconfig_path, crds_dir=Path("crds")) as cluster:
        cluster.kubectl("get", "ns")

From a shell (processes outlive the command; state goes to ``.switchboard/kube-state.json``)::

    python tests/harness/kube.py build
    python tests/harness/kube.py up [--kubeconfig .switchboard/kubeconfig] [--crds crds/]
    python tests/harness/kube.py down
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    # Run as a script, this directory comes first on sys.path, where sibling test modules
    # (http.py) would shadow the standard library modules imported below.
    sys.path.pop(0)

import argparse
import base64
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
GO_MODULE_DIR = REPO_ROOT / "tests" / "kube"
DEFAULT_KUBECONFIG = Path(".switchboard") / "kubeconfig"
DEFAULT_STATE_FILE = Path(".switchboard") / "kube-state.json"

APISERVER_PACKAGE = "k8s.io/kubernetes/cmd/kube-apiserver"
ETCD_PACKAGE = "go.etcd.io/etcd/server/v3"
HOST = "127.0.0.1"
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
ADMIN_USER = "switchboard-admin"
TEST_USER = "switchboard-test-user"
CONTEXT_NAME = "switchboard-local"
# The workload side of the API has no controller-manager to create each namespace's "default"
# ServiceAccount, so the admission plugin that insists on it would reject every Pod.
DISABLED_ADMISSION_PLUGINS = "ServiceAccount"

_LOG_TAIL_LINES = 40
_STOP_GRACE_SECONDS = 10.0


class KubeHarnessError(RuntimeError):
    """The binaries could not be built, or the local cluster could not be started or driven."""


# --------------------------------------------------------------------------------------------
# Binaries
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Binaries:
    """Paths of a built kube-apiserver and etcd, and the versions they were built from."""

    kube_apiserver: Path
    etcd: Path
    kubernetes_version: str
    etcd_version: str


def _module_version(go_mod: str, module: str) -> str:
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", go_mod, re.MULTILINE)
    if match is None:
        raise KubeHarnessError(f"{GO_MODULE_DIR / 'go.mod'} does not require {module}")
    return match.group(1)


def pinned_versions() -> tuple[str, str]:
    """Return (kubernetes version, etcd version) as pinned in tests/kube/go.mod."""
    go_mod = (GO_MODULE_DIR / "go.mod").read_text(encoding="utf-8")
    return _module_version(go_mod, "k8s.io/kubernetes"), _module_version(go_mod, ETCD_PACKAGE)


def cache_root() -> Path:
    """Binary cache: $SWITCHBOARD_KUBE_CACHE, else $XDG_CACHE_HOME (~/.cache)/switchboard/kube."""
    override = os.environ.get("SWITCHBOARD_KUBE_CACHE")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "switchboard" / "kube"


def _module_digest() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        digest.update((GO_MODULE_DIR / name).read_bytes())
    return digest.hexdigest()


def _find_go() -> str:
    candidates = [os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise KubeHarnessError("the Go toolchain was not found (set $GO or put `go` on PATH)")


def _find_kubectl() -> str:
    found = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not found:
        raise KubeHarnessError("kubectl was not found (set $KUBECTL or put it on PATH)")
    return found


def _say(message: str) -> None:
    print(f"[kube-harness] {message}", file=sys.stderr, flush=True)


def _go_build(go: str, package: str, output: Path, kubernetes_version: str) -> None:
    major, minor = kubernetes_version.lstrip("v").split(".")[:2]
    version_pkg = "k8s.io/component-base/version"
    ldflags = [
        "-s",
        "-w",
        f"-X {version_pkg}.gitVersion={kubernetes_version}",
        f"-X {version_pkg}.gitMajor={major}",
        f"-X {version_pkg}.gitMinor={minor}",
        f"-X {version_pkg}.gitTreeState=clean",
    ]
    command = [
        go,
        "build",
        "-mod=readonly",
        "-trimpath",
        f"-ldflags={' '.join(ldflags)}",
        "-o",
        str(output),
        package,
    ]
    env = dict(os.environ)
    env.update({"CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOWORK": "off"})
    started = time.monotonic()
    _say(f"go build {package} (first use: several minutes on a small machine)")
    process = subprocess.Popen(command, cwd=GO_MODULE_DIR, env=env, stdin=subprocess.DEVNULL)
    while True:
        try:
            code = process.wait(timeout=30)
            break
        except subprocess.TimeoutExpired:
            _say(f"  still building {package} ({time.monotonic() - started:.0f}s)")
        except BaseException:
            process.kill()
            process.wait()
            raise
    if code != 0:
        raise KubeHarnessError(f"go build {package} failed with exit code {code} (see above)")
    _say(f"built {package} in {time.monotonic() - started:.0f}s")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(f"waiting for another build holding {path}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def ensure_binaries() -> Binaries:
    """Return built kube-apiserver and etcd binaries, building them on first use.

    ``$SWITCHBOARD_KUBE_BIN_DIR`` names a directory with prebuilt ``kube-apiserver`` and ``etcd``
    to use instead. Otherwise binaries live in ``cache_root()/<kubernetes version>/`` with a
    stamp of the Go module they came from; a build holds a file lock there and writes each
    binary under a temporary name before renaming it into place.
    """
    kubernetes_version, etcd_version = pinned_versions()
    prebuilt = os.environ.get("SWITCHBOARD_KUBE_BIN_DIR")
    if prebuilt:
        directory = Path(prebuilt).expanduser()
        binaries = Binaries(
            directory / "kube-apiserver", directory / "etcd", kubernetes_version, etcd_version
        )
        for path in (binaries.kube_apiserver, binaries.etcd):
            if not _is_executable(path):
                raise KubeHarnessError(f"$SWITCHBOARD_KUBE_BIN_DIR has no executable {path}")
        return binaries

    directory = cache_root() / kubernetes_version
    binaries = Binaries(
        directory / "kube-apiserver", directory / "etcd", kubernetes_version, etcd_version
    )
    stamp_path = directory / "build.json"
    stamp = {
        "kubernetes": kubernetes_version,
        "etcd": etcd_version,
        "module_sha256": _module_digest(),
    }

    def up_to_date() -> bool:
        if not (_is_executable(binaries.kube_apiserver) and _is_executable(binaries.etcd)):
            return False
        try:
            return bool(json.loads(stamp_path.read_text(encoding="utf-8")) == stamp)
        except (OSError, ValueError):
            return False

    if up_to_date():
        return binaries
    with _file_lock(directory / ".build.lock"):
        if up_to_date():  # another process finished the build while we waited
            return binaries
        go = _find_go()
        stamp_path.unlink(missing_ok=True)
        for leftover in directory.glob(".*.partial-*"):  # from a build that was killed
            leftover.unlink(missing_ok=True)
        for package, target in (
            (APISERVER_PACKAGE, binaries.kube_apiserver),
            (ETCD_PACKAGE, binaries.etcd),
        ):
            partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
            try:
                _go_build(go, package, partial, kubernetes_version)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
        partial_stamp = stamp_path.with_name(f".{stamp_path.name}.partial-{os.getpid()}")
        partial_stamp.write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        partial_stamp.replace(stamp_path)
    return binaries


# --------------------------------------------------------------------------------------------
# Cluster
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = text.splitlines()[-lines:]
    return f"--- last {len(tail)} lines of {path} ---\n" + "\n".join(tail)


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise KubeHarnessError(f"openssl {' '.join(args)} failed:\n{result.stderr.strip()}")


def _generate_pki(directory: Path) -> None:
    """Write ca.crt/ca.key, apiserver.crt/.key and sa.key/sa.pub into directory."""
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
        "-subj", "/CN=switchboard-test-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "req", *ec, "-keyout", "apiserver.key", "-out", "apiserver.csr",
        "-subj", "/CN=kube-apiserver",
        cwd=directory,
    )  # fmt: skip
    (directory / "apiserver.ext").write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,"
        "DNS:kubernetes.default,DNS:kubernetes.default.svc,"
        "DNS:kubernetes.default.svc.cluster.local\n",
        encoding="utf-8",
    )
    _openssl(
        "x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "apiserver.crt", "-days", "30", "-extfile", "apiserver.ext",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key",
        cwd=directory,
    )  # fmt: skip
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=directory)


def render_kubeconfig(server_url: str, ca_pem: bytes, token: str, user: str = ADMIN_USER) -> str:
    """Return a kubeconfig (YAML) for server_url with the CA embedded and bearer-token auth."""
    ca_data = base64.b64encode(ca_pem).decode("ascii")
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        f"- name: {CONTEXT_NAME}\n"
        "  cluster:\n"
        f"    server: {server_url}\n"
        f"    certificate-authority-data: {ca_data}\n"
        "users:\n"
        f"- name: {user}\n"
        "  user:\n"
        f"    token: {token}\n"
        "contexts:\n"
        f"- name: {CONTEXT_NAME}\n"
        "  context:\n"
        f"    cluster: {CONTEXT_NAME}\n"
        f"    user: {user}\n"
        "    namespace: default\n"
        f"current-context: {CONTEXT_NAME}\n"
    )


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    partial.touch(mode=0o600)
    partial.chmod(0o600)
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Linux prctl(PR_SET_PDEATHSIG, SIGTERM): an attached cluster dies with the test process
    # even when that process is killed without running its cleanup.
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def run_kubectl(
    kubeconfig: Path,
    *args: str,
    check: bool = True,
    input_text: str | None = None,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``kubectl --kubeconfig kubeconfig ARGS``; raise KubeHarnessError on failure if check."""
    command = [_find_kubectl(), f"--kubeconfig={kubeconfig}", *args]
    result = subprocess.run(
        command,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise KubeHarnessError(
            f"kubectl {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return result


def apply_crds(kubeconfig: Path, crds_dir: Path, timeout: float = 60.0) -> None:
    """``kubectl apply`` every manifest in crds_dir and wait until the CRDs are Established."""
    run_kubectl(kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", str(crds_dir))
    run_kubectl(
        kubeconfig,
        "wait",
        "--for=condition=Established",
        f"--timeout={timeout:.0f}s",
        "-f",
        str(crds_dir),
        timeout=timeout + 30,
    )


def has_manifests(directory: Path) -> bool:
    """True when directory exists and holds at least one .yaml/.yml/.json file."""
    return directory.is_dir() and any(
        p.suffix in {".yaml", ".yml", ".json"} for p in directory.iterdir() if p.is_file()
    )


class KubeCluster:
    """A cluster reachable through a kubeconfig file; LocalCluster and external clusters."""

    def __init__(self, kubeconfig_path: str | os.PathLike[str]) -> None:
        self.kubeconfig_path = Path(kubeconfig_path).resolve()

    def kubectl(
        self, *args: str, check: bool = True, input_text: str | None = None, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster (see run_kubectl)."""
        return run_kubectl(
            self.kubeconfig_path, *args, check=check, input_text=input_text, timeout=timeout
        )

    def apply_crds(self, crds_dir: str | os.PathLike[str], timeout: float = 60.0) -> None:
        """Apply the CRD manifests in crds_dir and wait until they are Established."""
        apply_crds(self.kubeconfig_path, Path(crds_dir), timeout=timeout)


class LocalCluster(KubeCluster):
    """etcd + kube-apiserver on loopback, with throwaway PKI, RBAC and static token auth.

    Attributes once started: ``kubeconfig_path`` (admin, token auth, CA embedded),
    ``server_url``, ``ca_pem``, ``admin_token`` (user ``switchboard-admin`` in
    ``system:masters``), ``user_token`` (user ``switchboard-test-user`` with no groups and so
    no RBAC grants beyond discovery), ``etcd_url``, ``workdir`` (logs: ``etcd.log``,
    ``kube-apiserver.log``) and ``pids``.

    ``detach=True`` starts the processes in their own session without tying them to this
    process, so they outlive it (the CLI ``up``); then call ``stop()`` or ``stop_from_state()``.
    """

    def __init__(
        self,
        kubeconfig_path: str | os.PathLike[str] | None = None,
        *,
        crds_dir: str | os.PathLike[str] | None = None,
        binaries: Binaries | None = None,
        startup_timeout: float = 180.0,
        detach: bool = False,
        keep_workdir: bool = False,
    ) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="switchboard-kube-"))
        super().__init__(kubeconfig_path or self.workdir / "kubeconfig")
        self.crds_dir = Path(crds_dir) if crds_dir is not None else None
        self.binaries = binaries
        self.startup_timeout = startup_timeout
        self.detach = detach
        self.keep_workdir = keep_workdir or bool(os.environ.get("SWITCHBOARD_KUBE_KEEP"))
        self.admin_token = secrets.token_hex(24)
        self.user_token = secrets.token_hex(24)
        self.server_url = ""
        self.etcd_url = ""
        self.ca_pem = b""
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, Path] = {}
        self._wrote_kubeconfig = False

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pids(self) -> dict[str, int]:
        """Process ids by program name ("etcd", "kube-apiserver")."""
        return {name: process.pid for name, process in self._processes.items()}

    def start(self) -> LocalCluster:
        """Build if needed, start etcd and kube-apiserver, write the kubeconfig, apply CRDs."""
        try:
            binaries = self.binaries or ensure_binaries()
            self.binaries = binaries
            pki = self.workdir / "pki"
            _generate_pki(pki)
            self.ca_pem = (pki / "ca.crt").read_bytes()
            self._start_with_port_retries(binaries, pki)
            _write_private(
                self.kubeconfig_path,
                render_kubeconfig(self.server_url, self.ca_pem, self.admin_token),
            )
            self._wrote_kubeconfig = True
            if self.crds_dir is not None and has_manifests(self.crds_dir):
                self.apply_crds(self.crds_dir)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_with_port_retries(self, binaries: Binaries, pki: Path, attempts: int = 3) -> None:
        # Free ports are picked by binding port 0 and closing; another process can take one
        # before etcd or the apiserver binds it, so a bind failure is retried with new ports.
        for attempt in range(1, attempts + 1):
            try:
                self._start_etcd(binaries.etcd)
                self._start_apiserver(binaries.kube_apiserver, pki)
                return
            except KubeHarnessError as error:
                if attempt == attempts or "address already in use" not in str(error):
                    raise
                _say(f"port taken while starting ({attempt}/{attempts}); retrying")
                self._terminate_all()

    def _spawn(self, name: str, command: Sequence[str]) -> None:
        log_path = self.workdir / f"{name}.log"
        self._logs[name] = log_path
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=None if self.detach else _die_with_parent,
            )
        self._processes[name] = process

    def _failure(self, name: str, message: str) -> KubeHarnessError:
        kept = "" if self.keep_workdir else " (removed on stop; SWITCHBOARD_KUBE_KEEP=1 keeps it)"
        return KubeHarnessError(f"{name}: {message}{kept}\n{_log_tail(self._logs[name])}")

    def _wait_until(self, name: str, probe: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        process = self._processes[name]
        last_error = ""
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                raise self._failure(name, f"exited with code {code} while waiting for {what}")
            try:
                if probe():
                    return
            except (OSError, ValueError) as error:
                last_error = str(error)
            time.sleep(0.25)
        raise self._failure(
            name, f"not {what} after {self.startup_timeout:.0f}s (last probe error: {last_error})"
        )

    def _start_etcd(self, etcd: Path) -> None:
        client_port, peer_port = _free_port(), _free_port()
        self.etcd_url = f"http://{HOST}:{client_port}"
        peer_url = f"http://{HOST}:{peer_port}"
        data_dir = self.workdir / "etcd-data"
        shutil.rmtree(data_dir, ignore_errors=True)
        self._spawn(
            "etcd",
            [
                str(etcd),
                "--name=switchboard-test",
                f"--data-dir={data_dir}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=switchboard-test={peer_url}",
                "--initial-cluster-state=new",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )

        def healthy() -> bool:
            with urllib.request.urlopen(f"{self.etcd_url}/health", timeout=2) as response:
                return bool(json.loads(response.read()).get("health") == "true")

        self._wait_until("etcd", healthy, "healthy")

    def _start_apiserver(self, apiserver: Path, pki: Path) -> None:
        port = _free_port()
        self.server_url = f"https://{HOST}:{port}"
        tokens = self.workdir / "tokens.csv"
        _write_private(
            tokens,
            f'{self.admin_token},{ADMIN_USER},uid-admin,"system:masters"\n'
            f"{self.user_token},{TEST_USER},uid-test-user\n",
        )
        self._spawn(
            "kube-apiserver",
            [
                str(apiserver),
                f"--etcd-servers={self.etcd_url}",
                f"--bind-address={HOST}",
                f"--advertise-address={HOST}",
                f"--secure-port={port}",
                f"--cert-dir={pki}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={tokens}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                f"--disable-admission-plugins={DISABLED_ADMISSION_PLUGINS}",
                # Endpoints may not hold loopback addresses, so the "kubernetes" Service's
                # endpoints cannot be reconciled to --advertise-address=127.0.0.1.
                "--endpoint-reconciler-type=none",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1",
            ],
        )
        context = ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))

        def ready() -> bool:
            request = urllib.request.Request(
                f"{self.server_url}/readyz",
                headers={"Authorization": f"Bearer {self.admin_token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5, context=context) as response:
                    return bool(response.status == 200)
            except urllib.error.HTTPError as error:  # 500 while post-start hooks run
                error.close()
                return False

        self._wait_until("kube-apiserver", ready, "ready (/readyz)")

    def _terminate_all(self) -> None:
        # The apiserver goes first so it does not log a storm of etcd connection errors.
        for name in ("kube-apiserver", "etcd"):
            process = self._processes.pop(name, None)
            if process is not None:
                _terminate(process.pid)
                process.wait()

    def stop(self) -> None:
        """Stop both processes and remove the temporary directory (idempotent)."""
        self._terminate_all()
        if self._wrote_kubeconfig and self.kubeconfig_path.parent != self.workdir:
            self.kubeconfig_path.unlink(missing_ok=True)
            self._wrote_kubeconfig = False
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- detached state (CLI) ----------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What ``down`` needs to stop a detached cluster."""
        return {
            "pids": self.pids,
            "workdir": str(self.workdir),
            "kubeconfig": str(self.kubeconfig_path),
            "server_url": self.server_url,
            "etcd_url": self.etcd_url,
        }


def _terminate(pid: int, grace: float = _STOP_GRACE_SECONDS) -> None:
    """SIGTERM pid, then SIGKILL if it has not exited (or become a zombie) after grace seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if _pid_gone(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _pid_belongs_to(pid: int, workdir: str) -> bool:
    """True when pid is alive and its command line mentions workdir (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return workdir.encode() in cmdline


def _pid_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"  # a zombie has exited


def stop_from_state(state: Mapping[str, Any]) -> None:
    """Stop a detached cluster described by LocalCluster.state() and remove its files."""
    workdir = str(state.get("workdir", ""))
    pids: Mapping[str, int] = state.get("pids", {})
    for name in ("kube-apiserver", "etcd"):
        pid = pids.get(name)
        if pid is not None and workdir and _pid_belongs_to(int(pid), workdir):
            _terminate(int(pid))
    if workdir and Path(workdir).name.startswith("switchboard-kube-"):
        shutil.rmtree(workdir, ignore_errors=True)
    kubeconfig = state.get("kubeconfig")
    if kubeconfig:
        Path(kubeconfig).unlink(missing_ok=True)


def _state_alive(state: Mapping[str, Any]) -> bool:
    workdir = str(state.get("workdir", ""))
    pids = state.get("pids", {})
    return bool(pids) and all(_pid_belongs_to(int(pid), workdir) for pid in pids.values())


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _cmd_build(_: argparse.Namespace) -> int:
    binaries = ensure_binaries()
    for path in (binaries.kube_apiserver, binaries.etcd):
        print(path)
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    state_path: Path = args.state
    state = _read_state(state_path)
    if state is not None:
        if _state_alive(state):
            _say(f"already running ({state_path}); `down` first to restart")
            print(state["kubeconfig"])
            return 0
        _say(f"cleaning up a dead cluster recorded in {state_path}")
        stop_from_state(state)
        state_path.unlink(missing_ok=True)
    crds: Path | None = args.crds
    if crds is not None and not has_manifests(crds):
        _say(f"{crds} has no manifests; no CRDs applied")
        crds = None
    cluster = LocalCluster(args.kubeconfig, crds_dir=crds, detach=True)
    cluster.start()
    _write_private(state_path, json.dumps(cluster.state(), indent=2) + "\n")
    _say(f"kube-apiserver {cluster.server_url} (logs in {cluster.workdir})")
    print(cluster.kubeconfig_path)
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    state_path: Path = args.state
    state = _read_state(state_path)
    if state is None:
        _say(f"nothing to stop ({state_path} missing)")
        return 0
    stop_from_state(state)
    state_path.unlink(missing_ok=True)
    _say("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python tests/harness/kube.py {build,up,down}``."""
    parser = argparse.ArgumentParser(prog="kube.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="build kube-apiserver and etcd into the cache")
    up = commands.add_parser("up", help="start a detached local cluster")
    up.add_argument("--kubeconfig", type=Path, default=DEFAULT_KUBECONFIG)
    up.add_argument("--crds", type=Path, default=None, help="directory of CRD manifests")
    up.add_argument("--state", type=Path, default=DEFAULT_STATE_FILE)
    down = commands.add_parser("down", help="stop the cluster started by `up`")
    down.add_argument("--state", type=Path, default=DEFAULT_STATE_FILE)
    args = parser.parse_args(argv)
    handlers = {"build": _cmd_build, "up": _cmd_up, "down": _cmd_down}
    try:
        return handlers[args.command](args)
    except KubeHarnessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
