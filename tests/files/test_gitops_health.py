"""How Argo CD and Flux read what the reconcilers write, by their own code: the Argo CD health
check (deploy/argocd/health.lua) run by gopher-lua as Argo CD runs it, on the cases kept in Argo
CD's upstream layout and on real statuses (Healthy when Ready, Degraded when Stalled, naming the
field, Progressing while retrying); kstatus, which Flux waits on, on the same statuses (Current,
Failed, InProgress)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from files.conftest import Run
from harness.gitops import ROOT, SCRIPT, argocd_health, kstatus

ARGOCD = ROOT / "deploy" / "argocd"


def resources(repo: Path) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted((repo / "examples").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in ("Integration", "Connection"):
                found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def verdicts(found: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], Any]:
    return dict(zip(found, argocd_health(found.values()), strict=True))


def test_the_configmap_carries_the_script_for_both_kinds() -> None:
    config = yaml.safe_load((ARGOCD / "argocd-cm.yaml").read_text())
    script = SCRIPT.read_text()
    keys = [
        f"resource.customizations.health.switchboard.dev_{k}" for k in ("Integration", "Connection")
    ]
    assert {key: config["data"].get(key) for key in keys} == dict.fromkeys(keys, script)


def test_the_cases_in_argo_cds_layout() -> None:
    cases = yaml.safe_load((ARGOCD / "health_test.yaml").read_text())["tests"]
    objects = [yaml.safe_load((ARGOCD / case["inputPath"]).read_text()) for case in cases]
    got = argocd_health(objects)
    assert len(cases) >= 8
    for case, verdict in zip(cases, got, strict=True):
        assert verdict == case["healthStatus"], case["inputPath"]


def test_reconciled_examples_are_healthy(repo: Path, run: Run) -> None:
    assert run("reconcile", "examples/").exit_code == 0
    found = resources(repo)
    assert {kind for kind, _ in found} == {"Integration", "Connection"}
    for key, verdict in verdicts(found).items():
        assert verdict["status"] == "Healthy", (key, verdict)
    assert {v["status"] for v in kstatus(found.values())} == {"Current"}
    # Before the operator has written anything, Argo CD waits instead of calling it Healthy.
    bare = [{k: v for k, v in doc.items() if k != "status"} for doc in found.values()]
    assert {v["status"] for v in argocd_health(bare)} == {"Progressing"}


def test_a_bad_spec_is_degraded_and_a_missing_credential_is_retried(
    repo: Path, run: Run, monkeypatch: Any
) -> None:
    broken = repo / "examples" / "broken.yaml"
    broken.write_text(
        "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\n"
        "metadata: {name: broken, namespace: acme}\n"
        "spec: {kind: openapi, openapi: {source: {file: examples/specs/missing.yaml}}}\n"
    )
    monkeypatch.delenv("WEATHER_APPID")
    assert run("reconcile", "examples/").exit_code == 1
    got = verdicts(resources(repo))
    assert got[("Integration", "broken")]["status"] == "Degraded"
    assert "spec.openapi.source" in got[("Integration", "broken")]["message"]
    waiting = got[("Connection", "weather-alice")]
    # A credential that may yet appear is retried, not a failure that blocks the next wave.
    assert waiting["status"] == "Progressing", waiting
    assert waiting["message"].startswith("Retrying: ") and "WEATHER_APPID" in waiting["message"]
    assert got[("Integration", "petstore")]["status"] == "Healthy"
    # kstatus agrees: Failed, InProgress (with Reconciling=True saying why), Current.
    found = resources(repo)
    flux = dict(zip(found, kstatus(found.values()), strict=True))
    assert flux[("Integration", "broken")]["status"] == "Failed"
    assert flux[("Connection", "weather-alice")]["status"] == "InProgress"
    assert "WEATHER_APPID" in flux[("Connection", "weather-alice")]["message"]
    assert flux[("Integration", "petstore")]["status"] == "Current"
    reconciling = next(
        c for c in found[("Connection", "weather-alice")]["status"]["conditions"]
        if c["type"] == "Reconciling"
    )  # fmt: skip
    assert reconciling["status"] == "True" and "WEATHER_APPID" in reconciling["message"]
