"""How GitOps tools read our resources, by their own code: Argo CD's verdict is
deploy/argocd/health.lua run by gopher-lua (the Lua engine Argo CD embeds); Flux's and kpt's is
kstatus (sigs.k8s.io/cli-utils). Both run as small Go programs from tests/gitops, built on first
use and cached (`harness.gotools`)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.gotools import ensure_go_tool

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "argocd" / "health.lua"
MODULE = ROOT / "tests" / "gitops"


def _run(command: str, request: dict[str, Any]) -> list[dict[str, str]]:
    binary = ensure_go_tool(command, MODULE, f"./{command}")
    result = subprocess.run(
        [str(binary)], input=json.dumps(request), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"{command} failed: {result.stderr.strip()}")
    verdicts: list[dict[str, str]] = json.loads(result.stdout)
    return verdicts


def argocd_health(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """`{"status", "message"}` for each resource, as Argo CD shows it (Healthy, Degraded, ...)."""
    return _run("healthlua", {"script": SCRIPT.read_text(), "objects": list(objects)})


def kstatus(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """`{"status", "message"}` for each resource, as kstatus computes it (Current, InProgress,
    Failed, ...): what Flux waits on."""
    return _run("kstatus", {"objects": list(objects)})
