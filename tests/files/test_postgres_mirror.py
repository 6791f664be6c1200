"""File mode mirrors into a real PostgreSQL exactly as into SQLite (same code, same results)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from files.conftest import Run

pytestmark = pytest.mark.postgres


def test_reconcile_into_postgres_then_noop_then_prune(
    run: Run, pg_database: str, repo: Path
) -> None:
    first = run("reconcile", "examples", "-o", "json", database=pg_database)
    assert first.exit_code == 0, first.output
    engine = create_engine(pg_database)
    with engine.connect() as conn:
        slugs = conn.execute(text("SELECT slug FROM integration ORDER BY slug")).scalars().all()
        tools = conn.execute(text("SELECT count(*) FROM tool")).scalar_one()
    assert slugs == ["acme_billing", "countries", "petstore", "status_page", "weather"]
    assert tools == 3 + 5 + 1 + 2 + 4  # petstore, billing, status, weather, countries
    again = run("reconcile", "examples", "-o", "json", database=pg_database)
    assert {r["action"] for r in again.json["resources"]} == {"unchanged"}
    (repo / "examples/status-service.yaml").unlink()
    pruned = run("reconcile", "examples", "-o", "json", database=pg_database)
    assert [r["name"] for r in pruned.json["resources"] if r["action"] == "prune"] == [
        "status-page"
    ]
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM tool WHERE integration = 'status_page'")
            ).scalar_one()
            == 0
        )
    engine.dispose()
    listed = run("catalog", "list", "-o", "json", database=pg_database)
    assert "status_page" not in [v["slug"] for v in listed.json]
