"""Bad input in file mode: each case gets a condition with a reason and a message naming the field;
the rest of the catalog is still reconciled, nothing stored is lost, and the exit code is 1."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from files.conftest import Run

HEADER = "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\nmetadata: {name: bad, namespace: acme}\n"
GOOD = {
    "petstore",
    "acme-billing",
    "weather",
    "status-page",
    "countries",
    "status-page-public",
    "weather-alice",
}
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
)


def openapi(source: str) -> str:
    return HEADER + f"spec:\n  kind: openapi\n  openapi:\n    source: {source}\n"


CASES = [
    pytest.param(HEADER + "spec:\n  kind: soap\n", "UnknownKind", "spec.kind", id="unknown-kind"),
    pytest.param(
        HEADER + "spec:\n  name: no kind\n", "InvalidSpec", "spec.kind", id="missing-field"
    ),
    pytest.param(
        HEADER + "spec:\n  slug: Bad-Slug\n  kind: openapi\n  openapi: {source: {inline: x}}\n",
        "InvalidSpec",
        "spec.slug",
        id="bad-slug",
    ),
    pytest.param(
        HEADER + "spec:\n  slug: switchboard\n  kind: openapi\n  openapi: {source: {inline: x}}\n",
        "InvalidSpec",
        "spec.slug",
        id="reserved-slug",
    ),
    pytest.param(
        HEADER + "spec:\n  kind: openapi\n", "InvalidSpec", "spec.openapi", id="missing-kind-config"
    ),
    pytest.param(
        openapi('{inline: \'{"hello": "world"}\'}'),
        "SpecInvalid",
        "spec.openapi.source",
        id="not-openapi",
    ),
    pytest.param(
        openapi("{inline: '{{{ :: ]]'}"),
        "SpecInvalid",
        "spec.openapi.source",
        id="not-json-or-yaml",
    ),
    pytest.param(
        openapi("{file: examples/specs/nope.yaml}"),
        "SourceNotFound",
        "spec.openapi.source.file",
        id="missing-file",
    ),
    pytest.param(
        openapi("{file: ../../etc/passwd}"),
        "PathOutsideRepository",
        "spec.openapi.source.file",
        id="path-escape",
    ),
    pytest.param(
        openapi("{file: /etc/passwd}"),
        "PathOutsideRepository",
        "spec.openapi.source.file",
        id="absolute-path",
    ),
    pytest.param(
        openapi("{inline: x, url: 'https://a.example/x'}"),
        "InvalidSpec",
        "spec.openapi.source",
        id="two-sources",
    ),
    pytest.param(
        openapi("{file: examples/specs/bomb.yaml}"),
        "SpecInvalid",
        "spec.openapi.source",
        id="alias-bomb-in-spec",
    ),
    pytest.param(
        openapi("{file: examples/specs/huge.json}"),
        "SpecTooLarge",
        "spec.openapi.source.file",
        id="over-size-cap",
    ),
]


@pytest.fixture(autouse=True)
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_MAX_SPEC_BYTES", str(256 * 1024))


@pytest.mark.parametrize(("manifest", "reason", "field"), CASES)
def test_bad_manifest_gets_a_condition_and_the_rest_reconciles(
    run: Run, repo: Path, db: str, manifest: str, reason: str, field: str
) -> None:
    (repo / "examples/specs/bomb.yaml").write_text(BOMB)
    (repo / "examples/specs/huge.json").write_text(
        '{"openapi": "3.0.0", "x": "' + "a" * 300_000 + '"}'
    )
    assert run("reconcile", "examples").exit_code == 0
    before = _rows(db)
    (repo / "examples/bad.yaml").write_text(manifest)
    result = run("reconcile", "examples", "-o", "json")
    assert result.exit_code == 1
    by_name = {r["name"]: r for r in result.json["resources"]}
    bad = by_name["bad"]
    assert (bad["action"], bad["ready"], bad["reason"]) == ("error", False, reason)
    assert bad["message"].startswith(f"{field}: ") or f"{field}." in bad["message"].split(":")[0]
    assert all(by_name[name]["ready"] for name in GOOD)
    assert _rows(db) == before  # nothing stored was touched
    written = (repo / "examples/bad.yaml").read_text()
    assert written.startswith(manifest)  # the manifest itself is unchanged
    ready = next(c for c in yaml.safe_load(written)["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", reason)


def test_invalid_yaml_is_reported_per_file(run: Run, repo: Path) -> None:
    (repo / "examples/broken.yaml").write_text(
        "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\nmetadata: [unclosed\n"
    )
    result = run("reconcile", "examples", "-o", "json")
    assert result.exit_code == 1
    errors = [r for r in result.json["resources"] if r["action"] == "error"]
    assert [(e["kind"], e["reason"]) for e in errors] == [("File", "SpecInvalid")]
    assert errors[0]["message"].startswith("examples/broken.yaml:")
    assert sum(r["ready"] for r in result.json["resources"]) == len(GOOD)


def test_alias_bomb_in_a_manifest_is_refused(run: Run, repo: Path) -> None:
    (repo / "examples/bomb.yaml").write_text(HEADER + BOMB)
    result = run("reconcile", "examples", "-o", "json")
    assert result.exit_code == 1
    errors = [r for r in result.json["resources"] if r["action"] == "error"]
    assert "alias bomb" in errors[0]["message"]


def test_duplicate_slug_conditions_the_later_manifest_only(run: Run, repo: Path, db: str) -> None:
    assert run("reconcile", "examples").exit_code == 0
    (repo / "examples/zz-dup.yaml").write_text(
        HEADER.replace("name: bad", "name: petstore-copy")
        + "spec:\n  slug: petstore\n  kind: openapi\n  openapi: {source: {file: examples/specs/weather.yaml}}\n"
    )
    result = run("reconcile", "examples", "-o", "json")
    assert result.exit_code == 1
    by_name = {r["name"]: r for r in result.json["resources"]}
    assert by_name["petstore-copy"]["reason"] == "IntegrationAlreadyExists"
    assert "spec.slug" in by_name["petstore-copy"]["message"]
    assert by_name["petstore"]["ready"] is True
    assert [r[3] for r in _rows(db) if r[0] == "petstore"] == ["Petstore"]


def test_a_broken_spec_keeps_what_was_stored(run: Run, repo: Path, db: str) -> None:
    assert run("reconcile", "examples").exit_code == 0
    before = _rows(db)
    spec = repo / "examples/specs/petstore.yaml"
    spec.write_text("openapi: 3.0.0\npaths: [not, a, mapping")
    result = run("reconcile", "examples", "-o", "json")
    assert result.exit_code == 1
    assert _rows(db) == before
    status = next(yaml.safe_load_all((repo / "examples/integrations.yaml").read_text()))["status"]
    assert status["authMethods"][0]["label"] == "API key (X-API-Key)"  # what was learned stays
    assert status["consecutiveFailures"] == 1


def _rows(db: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return conn.execute(
            "SELECT slug, spec_hash, manifest_hash, name, config FROM integration ORDER BY slug"
        ).fetchall()
