"""Fixtures for file mode: a throwaway repository with the examples, and a CLI runner."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from switchboard.cli import app

EXAMPLES = Path(__file__).parents[2] / "examples"


@dataclass
class Result:
    exit_code: int
    output: str

    @property
    def json(self) -> Any:
        return json.loads(self.output)


Run = Callable[..., Result]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES, root / "examples")
    return root


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture
def run(repo: Path, db: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    """`switchboard ...` in-process, against the throwaway repo and database."""
    monkeypatch.chdir(repo)
    # The example personal connection reads its key from the environment (a demo value).
    monkeypatch.setenv("WEATHER_APPID", "demo-appid")

    def invoke(*args: str, database: str | None = None) -> Result:
        argv = list(args)
        if argv and argv[0] in ("reconcile",):
            argv += ["--root", str(repo)]
        if argv and argv[0] in ("reconcile", "catalog"):
            argv += ["--db", database or db]
        result = CliRunner().invoke(app, argv, catch_exceptions=False)
        return Result(result.exit_code, result.output)

    return invoke
