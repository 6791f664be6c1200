"""Helm for the chart tests: built with `go build` from the Go module in tests/helm (which pins
helm.sh/helm/v3) on first use, cached beside the kube-apiserver build (`harness.gotools`)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from harness.gotools import ensure_go_tool
from harness.kube import KubeHarnessError

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
    return ensure_go_tool(
        "helm", MODULE, PACKAGE, ldflags=f"-X helm.sh/helm/v3/internal/version.version={version}"
    )


def helm(*args: str) -> str:
    result = subprocess.run(
        [str(ensure_helm()), *args], capture_output=True, text=True, check=False, timeout=300
    )
    if result.returncode != 0:
        raise KubeHarnessError(
            f"helm {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
        )
    return result.stdout
