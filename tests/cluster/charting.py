"""Helm for the chart tests: built with `go build` from the Go module in tests/helm (which pins
helm.sh/helm/v3) on first use, cached beside the kube-apiserver build, keyed by version."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

from harness.kube import KubeHarnessError, _file_lock, _find_go, _is_executable, _say, cache_root

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "tests" / "helm"
PACKAGE = "helm.sh/helm/v3/cmd/helm"


def pinned_version() -> str:
    match = re.search(r"^require helm\.sh/helm/v3 (v\S+)", (MODULE / "go.mod").read_text(), re.M)
    if match is None:
        raise KubeHarnessError(f"{MODULE / 'go.mod'} does not require helm.sh/helm/v3")
    return match.group(1)


def ensure_helm() -> Path:
    """The helm binary, built into the cache on first use (about a minute and a half)."""
    version = pinned_version()
    folder = cache_root().parent / "helm" / version
    binary = folder / "helm"
    stamp = folder / "build.json"
    digest = hashlib.sha256(
        (MODULE / "go.mod").read_bytes() + (MODULE / "go.sum").read_bytes()
    ).hexdigest()

    def current() -> bool:
        try:
            built = json.loads(stamp.read_text()) == {"helm": version, "module_sha256": digest}
        except (OSError, ValueError):
            return False
        return built and _is_executable(binary)

    if current():
        return binary
    with _file_lock(folder / ".build.lock"):
        if current():
            return binary
        partial = folder / f".helm.partial-{os.getpid()}"
        started = time.monotonic()
        _say(f"go build {PACKAGE} (first use: a minute or two)")
        env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOWORK": "off"}
        version_flag = f"-X helm.sh/helm/v3/internal/version.version={version}"
        result = subprocess.run(
            [_find_go(), "build", "-mod=readonly", "-trimpath",
             f"-ldflags=-s -w {version_flag}", "-o", str(partial), PACKAGE],
            cwd=MODULE, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise KubeHarnessError(f"go build {PACKAGE} failed:\n{result.stderr[-4000:]}")
        partial.replace(binary)
        stamp.write_text(json.dumps({"helm": version, "module_sha256": digest}))
        _say(f"built helm {version} in {time.monotonic() - started:.0f}s")
    return binary


def helm(*args: str) -> str:
    result = subprocess.run(
        [str(ensure_helm()), *args], capture_output=True, text=True, check=False, timeout=300
    )
    if result.returncode != 0:
        raise KubeHarnessError(
            f"helm {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
        )
    return result.stdout
