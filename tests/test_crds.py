"""The CRDs in crds/ are what the models generate, and every example validates against them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.crds import render_crds

ROOT = Path(__file__).parents[1]


def test_committed_crds_are_current(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["crds", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for generated in sorted(tmp_path.iterdir()):
        committed = ROOT / "crds" / generated.name
        assert committed.exists(), f"crds/{generated.name} is missing: run `make crds`"
        assert committed.read_text() == generated.read_text(), (
            f"crds/{generated.name} is stale: run `make crds` and commit"
        )


def _schemas() -> dict[str, dict[str, Any]]:
    return {
        doc["spec"]["names"]["kind"]: doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for doc in render_crds().values()
    }


def _examples() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted((ROOT / "examples").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith(
                "switchboard.dev/"
            ):
                out.append((f"{path.name}:{doc['metadata']['name']}", doc))
    return out


EXAMPLES = _examples()


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize(("name", "doc"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_example_validates_against_the_generated_schema(name: str, doc: dict[str, Any]) -> None:
    schema = _schemas()[doc["kind"]]
    body = {k: v for k, v in doc.items() if k in ("spec", "status")}
    jsonschema.validate(body, schema)


def test_schema_rejects_what_it_should() -> None:
    schema = _schemas()["Integration"]
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate({"spec": {"kind": "openapi", "slug": "Bad-Slug"}}, schema)
    with pytest.raises(jsonschema.ValidationError, match="required"):
        jsonschema.validate({"spec": {"name": "x"}}, schema)


def test_crd_shape_for_kubectl_and_argo() -> None:
    crd = render_crds()["integrations.yaml"]
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert columns == ["Slug", "Kind", "Ready", "Auth", "Tools", "Age"]
    text = yaml.safe_dump(crd)
    # Defaults would make Argo CD report OutOfSync forever.
    assert "default:" not in text
    rules = [
        r["rule"]
        for r in version["schema"]["openAPIV3Schema"]["properties"]["spec"][
            "x-kubernetes-validations"
        ]
    ]
    assert any("has(self.openapi)" in r for r in rules)
    source = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["openapi"][
        "properties"
    ]["source"]
    assert "size() == 1" in source["x-kubernetes-validations"][0]["rule"]


def test_reconciled_examples_with_status_still_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEATHER_APPID", "demo-appid")  # the example personal connection's key
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples", repo / "examples")
    result = CliRunner().invoke(
        app,
        [
            "reconcile",
            str(repo / "examples"),
            "--root",
            str(repo),
            "--db",
            f"sqlite:///{tmp_path / 'c.db'}",
        ],
    )
    assert result.exit_code == 0, result.output
    schemas = _schemas()
    checked = 0
    for path in sorted((repo / "examples").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in schemas and "status" in doc:
                jsonschema.validate(
                    {"spec": doc["spec"], "status": doc["status"]}, schemas[doc["kind"]]
                )
                checked += 1
    assert checked >= 4
