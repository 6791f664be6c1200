"""Shared pieces of the command line: the app, consoles, options, settings and context helpers."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console

from switchboard.config import Settings
from switchboard.context import AppContext
from switchboard.errors import SwitchboardError

app = typer.Typer(
    name="switchboard",
    help="A declarative catalog of API integrations: reconcile manifests, query the catalog.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Read the catalog mirror.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

out = Console(width=None if Console().is_terminal else 200)
err = Console(stderr=True)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (SWITCHBOARD_DB).")]
OutputOption = Annotated[str, typer.Option("--output", "-o", help="table or json.")]
NamespaceOption = Annotated[
    str | None, typer.Option("--namespace", "-n", help="Tenant (namespace).")
]


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        err.print(f"[red]error:[/] SWITCHBOARD_{str(first['loc'][0]).upper()}: {first['msg']}")
        raise typer.Exit(2) from exc


def _check_output(output: str) -> None:
    if output not in ("table", "json"):
        err.print(f"[red]error:[/] --output must be table or json, not {output!r}")
        raise typer.Exit(2)


def _git_root(start: Path) -> Path | None:
    try:
        top = subprocess.run(
            ["git", "-C", str(start), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(top) if top else None


def _open(settings: Settings) -> AppContext:
    try:
        return AppContext.create(settings)
    except SwitchboardError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


def _dump(data: Any, output: str) -> None:
    if output == "json":
        out.print_json(json.dumps(data))
    else:
        out.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


def close(context: AppContext) -> None:
    asyncio.run(context.aclose())
