"""The `switchboard` command line: reconcile files, read the catalog, render CRDs, run the operator."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from switchboard.config import Settings
from switchboard.context import AppContext
from switchboard.crds import render_crds
from switchboard.errors import SwitchboardError
from switchboard.reconcile.files import FileReconciler, RunReport
from switchboard.storage.manifests import ManifestRepository

app = typer.Typer(
    name="switchboard",
    help="A declarative catalog of API integrations: reconcile manifests, query the catalog.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Read the catalog mirror.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

out = Console()
err = Console(stderr=True)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (SWITCHBOARD_DB).")]
OutputOption = Annotated[str, typer.Option("--output", "-o", help="table or json.")]
NamespaceOption = Annotated[str | None, typer.Option("--namespace", "-n", help="Tenant (namespace).")]


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
            capture_output=True, text=True, check=True, timeout=10,
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


@app.command()
def reconcile(
    paths: Annotated[list[Path], typer.Argument(help="Manifest files or directories.")],
    db: DbOption = None,
    root: Annotated[Path | None, typer.Option(help="Repository root (default: git top level).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")] = False,
    prune: Annotated[bool, typer.Option("--prune/--no-prune", help="Remove integrations whose manifest is gone.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Re-read every file, even unchanged ones.")] = False,
    output: OutputOption = "table",
) -> None:
    """Reconcile manifests into the catalog and write each resource's status back into its file."""
    _check_output(output)
    settings = _settings(db=db, root=root)
    for path in paths:
        if not path.exists():
            err.print(f"[red]error:[/] {path}: no such file or directory")
            raise typer.Exit(2)
    repo_root = settings.root or _git_root(paths[0] if paths[0].is_dir() else paths[0].parent) or Path.cwd()
    report = asyncio.run(_reconcile(settings, repo_root, paths, dry_run=dry_run, prune=prune, force=force))
    _print_report(report, output)
    raise typer.Exit(1 if report.failed else 0)


async def _reconcile(
    settings: Settings, root: Path, paths: list[Path], *, dry_run: bool, prune: bool, force: bool
) -> RunReport:
    context = _open(settings)
    try:
        manifests = ManifestRepository(root)
        with _progress() as progress:
            task = progress.add_task("reconciling", total=None) if progress else None

            def advance(done: int, total: int) -> None:
                if progress is not None and task is not None:
                    progress.update(task, completed=done, total=total)

            reconciler = FileReconciler(
                manifests=manifests,
                store=context.store,
                registry=context.registry,
                ctx=context.plugin_context(root=manifests.root),
                now=datetime.now(UTC),
                concurrency=settings.concurrency,
                progress=advance,
            )
            if force:
                reconciler._unchanged = lambda *_: False  # type: ignore[method-assign]
            try:
                return await reconciler.run(paths, dry_run=dry_run, prune=prune)
            except SwitchboardError as exc:
                err.print(f"[red]error:[/] {exc}")
                raise typer.Exit(1) from exc
    finally:
        await context.aclose()


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


def _progress() -> Any:
    if not err.is_terminal:
        return _NoProgress()
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    )


def _print_report(report: RunReport, output: str) -> None:
    if output == "json":
        body = {
            "dryRun": report.dry_run,
            "filesRead": report.files_read,
            "filesUnchanged": report.files_unchanged,
            "filesWritten": report.files_written,
            "skippedDocuments": report.skipped_documents,
            "resources": [
                {
                    "kind": r.kind, "namespace": r.namespace, "name": r.name, "file": r.file,
                    "action": r.action, "ready": r.ready, "slug": r.slug, "reason": r.reason,
                    "message": r.message,
                }
                for r in report.resources
            ],
        }
        out.print_json(json.dumps(body))
        return
    table = Table(title="plan" if report.dry_run else None)
    for column in ("NAMESPACE", "KIND", "NAME", "SLUG", "ACTION", "READY", "REASON", "MESSAGE"):
        table.add_column(column, overflow="fold")
    for r in report.resources:
        style = "red" if r.action == "error" else None
        table.add_row(r.namespace, r.kind, r.name, r.slug or "", r.action,
                      "True" if r.ready else "False", r.reason, r.message, style=style)
    out.print(table)
    counts: dict[str, int] = {}
    for r in report.resources:
        counts[r.action] = counts.get(r.action, 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "no resources"
    out.print(
        f"{summary}; {report.files_read} files read, {report.files_unchanged} unchanged, "
        f"{report.files_written} written, {report.skipped_documents} other documents skipped"
    )


def _dump(data: Any, output: str) -> None:
    if output == "json":
        out.print_json(json.dumps(data))
    else:
        out.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@catalog_app.command("list")
def catalog_list(db: DbOption = None, namespace: NamespaceOption = None, output: OutputOption = "table") -> None:
    """List integrations: built-in ones first, then the mirror's rows."""
    _check_output(output)
    context = _open(_settings(db=db))
    try:
        views = context.catalog.list(namespace)
    finally:
        asyncio.run(context.aclose())
    if output == "json":
        _dump([v.dump() for v in views], "json")
        return
    table = Table()
    for column in ("TENANT", "SLUG", "KIND", "NAME", "AUTH", "REMOVABLE"):
        table.add_column(column)
    for v in views:
        auth = ",".join(m.template for m in v.auth_methods)
        table.add_row(v.tenant or "", v.slug, v.kind, v.name, auth, str(v.can_remove).lower())
    out.print(table)


@catalog_app.command("get")
def catalog_get(
    slug: str, db: DbOption = None, namespace: NamespaceOption = None, output: OutputOption = "table"
) -> None:
    """Show one integration's public projection (never its config)."""
    _check_output(output)
    context = _open(_settings(db=db))
    try:
        view = context.catalog.get(namespace or "default", slug)
    except SwitchboardError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    finally:
        asyncio.run(context.aclose())
    _dump(view.dump(), output if output == "json" else "yaml")


@catalog_app.command("tools")
def catalog_tools(
    db: DbOption = None,
    namespace: NamespaceOption = None,
    integration: Annotated[str | None, typer.Option(help="Only this integration.")] = None,
    output: OutputOption = "table",
) -> None:
    """List tools with their addresses."""
    _check_output(output)
    context = _open(_settings(db=db))
    try:
        views = context.catalog.tools(namespace, integration)
    finally:
        asyncio.run(context.aclose())
    if output == "json":
        _dump([v.dump() for v in views], "json")
        return
    table = Table()
    for column in ("ADDRESS", "APPROVAL", "DESCRIPTION"):
        table.add_column(column, overflow="fold")
    for v in views:
        table.add_row(v.address, "yes" if v.requires_approval else "", v.description.splitlines()[0] if v.description else "")
    out.print(table)


@app.command()
def crds(
    output_dir: Annotated[Path | None, typer.Option("--output-dir", help="Write one file per CRD here.")] = None,
) -> None:
    """Render the CRDs from the models (to stdout, or into --output-dir)."""
    rendered = render_crds()
    texts = {
        name: "# Generated by `switchboard crds` from the pydantic models; do not edit.\n"
        + yaml.safe_dump(doc, sort_keys=False, width=1000)
        for name, doc in rendered.items()
    }
    if output_dir is None:
        sys.stdout.write("---\n".join(texts.values()))
        return
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (output_dir / name).write_text(text)
        err.print(f"wrote {output_dir / name}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
