"""File-mode catalog at scale (issue 2): 1,000 and 10,000 integrations with small inline specs.

Cold reconcile, no-op re-run and re-run after one changed manifest, each in a fresh process
(wall time and peak RSS), against a floor measured in the same run: reading and parsing every
manifest with libyaml, the least any reconcile must do on a cold run.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import yaml

from benchmarks.measure import Row, isolated

PER_FILE = 10


def _spec(n: int) -> str:
    ok = {"200": {"description": "ok"}}
    return json.dumps(
        {
            "openapi": "3.0.3",
            "info": {"title": f"Service {n}"},
            "servers": [{"url": f"https://svc{n}.example.com"}],
            "components": {
                "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
            },
            "security": [{"key": []}],
            "paths": {
                "/items": {
                    "get": {"operationId": "listItems", "responses": ok},
                    "post": {"operationId": "createItem", "responses": ok},
                },
                "/items/{id}": {
                    "get": {
                        "operationId": "getItem",
                        "parameters": [
                            {
                                "name": "id",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        ],
                        "responses": ok,
                    }
                },
            },
        }
    )


def _doc(n: int) -> str:
    return (
        "---\n# generated for the benchmark\n"
        "apiVersion: switchboard.dev/v1alpha1\nkind: Integration\n"
        f"metadata:\n  name: svc-{n}\n  namespace: bench\n"
        f"spec:\n  name: Service {n}\n  kind: openapi\n  openapi:\n    source:\n"
        f"      inline: '{_spec(n)}'\n"
    )


def generate(root: Path, count: int) -> None:
    manifests = root / "manifests"
    manifests.mkdir(parents=True)
    for start in range(0, count, PER_FILE):
        body = "".join(_doc(n) for n in range(start, min(count, start + PER_FILE)))
        (manifests / f"batch-{start // PER_FILE:05d}.yaml").write_text(body)


def reconcile(root: str, db: str) -> int:
    from typer.testing import CliRunner

    from switchboard.cli import app

    result = CliRunner().invoke(
        app, ["reconcile", f"{root}/manifests", "--root", root, "--db", db, "-o", "json"]
    )
    if result.exit_code != 0:
        raise RuntimeError(result.output[-2000:])
    return len(result.output)


def floor(root: str) -> int:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = 0
    for path in sorted(Path(root, "manifests").glob("*.yaml")):
        docs += sum(1 for _ in yaml.load_all(path.read_text(), Loader=loader))
    return docs


def run() -> list[Row]:
    rows: list[Row] = []
    targets = {"cold": 60.0, "no-op": 3.0, "one change": 2.0}
    for count in (1_000, 10_000):
        work = Path(tempfile.mkdtemp(prefix="sb-bench-catalog-"))
        try:
            generate(work, count)
            db = f"sqlite:///{work / 'catalog.db'}"
            base = isolated(floor, str(work))
            cold = isolated(reconcile, str(work), db)
            noop = isolated(reconcile, str(work), db)
            target = work / "manifests" / "batch-00000.yaml"
            target.write_text(
                target.read_text().replace("name: Service 0\n", "name: Service zero\n")
            )
            change = isolated(reconcile, str(work), db)
            case = f"{count:,} integrations"
            rows.append(Row("catalog", case, "floor: parse manifests (libyaml)", base.seconds, "s"))
            for label, measured in (("cold", cold), ("no-op", noop), ("one change", change)):
                limit = targets[label] if count == 10_000 else None
                rows.append(
                    Row(
                        "catalog",
                        case,
                        f"{label} time",
                        measured.seconds,
                        "s",
                        target=f"<= {limit:g} s" if limit else "",
                        ok=(measured.seconds <= limit) if limit else None,
                    )
                )
                rows.append(
                    Row("catalog", case, f"{label} / floor", measured.seconds / base.seconds, "x")
                )
                rows.append(Row("catalog", case, f"{label} peak RSS", measured.peak_rss_mb, "MB"))
            size = (work / "catalog.db").stat().st_size / 1e6
            rows.append(Row("catalog", case, "database size", size, "MB"))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return rows
