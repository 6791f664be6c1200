"""Pytest plugin: session-scoped `postgres_url` fixture backed by a real PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.postgres import LocalPostgres

ENV_URL = "SWITCHBOARD_TEST_PG_URL"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL (postgresql+psycopg://...) of a PostgreSQL database for the test session.

    Uses $SWITCHBOARD_TEST_PG_URL when set; otherwise starts a throwaway LocalPostgres
    and stops it at the end of the session. Fails (never skips) if PostgreSQL can't start.
    """
    preset = os.environ.get(ENV_URL)
    if preset:
        yield preset
        return
    server = LocalPostgres()
    try:
        server.start()
    except Exception as exc:  # any failure to start is a test failure, not a skip
        pytest.fail(f"could not start a local PostgreSQL for tests: {exc}", pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()
