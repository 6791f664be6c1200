"""`switchboard reconcile`: file mode."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from switchboard.cli.common import (
    DbOption,
    OutputOption,
    _check_output,
    _git_root,
    _open,
    _settings,
    app,
    err,
    out,
)
from switchboard.config import Settings
from switchboard.errors import SwitchboardError
from switchboard.reconcile.files import FileReconciler, RunReport
from switchboard.storage.connections import SqlConnectionStore
from switchboard.storage.credentials import FileModeCredentials
from switchboard.storage.manifests import ManifestRepository


@app.command()
def reconcile(
    paths: Annotated[list[Path], typer.Argument(help="Manifest files or directories.")],
    db: DbOption = None,
    root: Annotated[
        Path | None, typer.Option(help="Repository root (default: git top level).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; write nothing.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune/--no-prune", help="Remove integrations whose manifest is gone.")
    ] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Re-read every file, even unchanged ones.")
    ] = False,
    output: OutputOption = "table",
) -> None:
    """Reconcile manifests into the catalog and write each resource's status back into its file."""
    _check_output(output)
    settings = _settings(db=db, root=root)
    for path in paths:
        if not path.exists():
            err.print(f"[red]error:[/] {path}: no such file or directory")
            raise typer.Exit(2)
    repo_root = (
        settings.root or _git_root(paths[0] if paths[0].is_dir() else paths[0].parent) or Path.cwd()
    )
    report = asyncio.run(
        _reconcile(settings, repo_root, paths, dry_run=dry_run, prune=prune, force=force)
    )
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
                connections=SqlConnectionStore(context.engine),
                credentials=FileModeCredentials(manifests.root),
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
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
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
                    "kind": r.kind,
                    "namespace": r.namespace,
                    "name": r.name,
                    "file": r.file,
                    "action": r.action,
                    "ready": r.ready,
                    "slug": r.slug,
                    "reason": r.reason,
                    "message": r.message,
                }
                for r in report.resources
            ],
        }
        sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(title="plan" if report.dry_run else None)
    for column in ("NAMESPACE", "KIND", "NAME", "SLUG", "ACTION", "READY", "REASON", "MESSAGE"):
        table.add_column(column, overflow="fold")
    for r in report.resources:
        style = "red" if r.action == "error" else None
        table.add_row(
            r.namespace,
            r.kind,
            r.name,
            r.slug or "",
            r.action,
            "True" if r.ready else "False",
            r.reason,
            r.message,
            style=style,
        )
    out.print(table)
    counts: dict[str, int] = {}
    for r in report.resources:
        counts[r.action] = counts.get(r.action, 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "no resources"
    out.print(
        f"{summary}; {report.files_read} files read, {report.files_unchanged} unchanged, "
        f"{report.files_written} written, {report.skipped_documents} other documents skipped"
    )
