"""Shared fixtures: the PostgreSQL server (a real one), loopback HTTP servers, databases."""

from __future__ import annotations

pytest_plugins = ["harness.pytest_postgres", "harness.fixtures"]
