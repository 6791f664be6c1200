"""Smoke test of the LocalPostgres harness: start, SELECT 1 through psql, URL shape, stop, CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.postgres import LocalPostgres

pytestmark = pytest.mark.postgres

URL_RE = re.compile(
    r"^postgresql\+psycopg://(?P<user>[^:/@]+):(?P<password>[^@]+)"
    r"@127\.0\.0\.1:(?P<port>\d+)/switchboard$"
)
HARNESS = Path(__file__).resolve().parents[1] / "harness" / "postgres.py"


@pytest.fixture(scope="module")
def pg() -> Iterator[LocalPostgres]:
    server = LocalPostgres()
    try:
        server.start()
    except Exception as exc:  # never skip: a missing PostgreSQL is a failure
        pytest.fail(f"LocalPostgres failed to start: {exc}", pytrace=False)
    print(f"LocalPostgres startup: {server.startup_seconds:.2f}s on port {server.port}")
    try:
        yield server
    finally:
        server.stop()


def _psql_url(pg: LocalPostgres, url: str, sql: str) -> subprocess.CompletedProcess[str]:
    """psql against a libpq URI over TCP, with none of the caller's PG* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(
        [str(Path(pg.bin_dir or "") / "psql"), "-X", "-A", "-t", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=30,
    )


def test_url_format(pg: LocalPostgres) -> None:
    match = URL_RE.match(pg.url)
    assert match, pg.url
    assert match["user"] == "switchboard"
    assert match["password"] == pg.password
    assert int(match["port"]) == pg.port
    assert pg.libpq_url == pg.url.replace("postgresql+psycopg://", "postgresql://")


def test_select_one_through_psql_with_password(pg: LocalPostgres) -> None:
    proc = _psql_url(pg, pg.libpq_url, "SELECT 1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"


def test_app_role_owns_database_and_can_create_tables(pg: LocalPostgres) -> None:
    out = pg.psql(
        "CREATE TABLE smoke (id int PRIMARY KEY); INSERT INTO smoke VALUES (7);"
        " SELECT current_user, current_database(), id FROM smoke",
        database="switchboard",
        superuser=False,
    )
    assert out.splitlines()[-1] == "switchboard|switchboard|7"


def test_wrong_password_is_rejected(pg: LocalPostgres) -> None:
    bad = pg.libpq_url.replace(f":{pg.password}@", ":not-the-password@")
    proc = _psql_url(pg, bad, "SELECT 1")
    assert proc.returncode != 0
    assert "password authentication failed" in proc.stderr


def test_settings_are_for_speed_and_loopback(pg: LocalPostgres) -> None:
    out = pg.psql("SELECT current_setting('fsync'), current_setting('listen_addresses')")
    assert out == "off|127.0.0.1"


def test_stop_removes_everything() -> None:
    with LocalPostgres() as server:
        tmp_dir, port = server.tmp_dir, server.port
        assert tmp_dir is not None
        assert tmp_dir.is_dir()
        assert server.is_ready()
    assert server.tmp_dir is None
    assert not tmp_dir.exists()
    probe = LocalPostgres(bin_dir=server.bin_dir)
    probe.port = port
    assert not probe.is_ready()
    server.stop()  # idempotent


def test_cli_up_status_down(tmp_path: Path) -> None:
    state = tmp_path / "pg-state.json"
    cli = [sys.executable, str(HARNESS), "--state", str(state)]
    up = subprocess.run([*cli, "up"], capture_output=True, text=True, check=False, timeout=120)
    assert up.returncode == 0, up.stderr
    try:
        url = up.stdout.strip()
        assert URL_RE.match(url), url
        recorded = json.loads(state.read_text(encoding="utf-8"))
        assert recorded["url"] == url
        again = subprocess.run([*cli, "up"], capture_output=True, text=True, check=False)
        assert again.stdout.strip() == url  # idempotent: reuses the live server
        status = subprocess.run([*cli, "status"], capture_output=True, text=True, check=False)
        assert status.returncode == 0
        assert status.stdout.strip() == url
    finally:
        down = subprocess.run([*cli, "down"], capture_output=True, text=True, check=False)
    assert down.returncode == 0, down.stderr
    assert not state.exists()
    assert not Path(recorded["tmp_dir"]).exists()
    status = subprocess.run([*cli, "status"], capture_output=True, text=True, check=False)
    assert status.returncode == 1
