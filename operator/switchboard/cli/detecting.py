"""`switchboard detect URL`: what kind of API is behind a URL, ranked, with how every detector
fared. Exit 0 when something was found, 1 when nothing was, 2 for a URL that cannot be detected."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from switchboard.catalog.detecting import Detection, detect
from switchboard.catalog.querying import static_integrations
from switchboard.cli.common import (
    DbOption,
    NamespaceOption,
    OutputOption,
    _check_output,
    _dump,
    _open,
    _settings,
    app,
    err,
    out,
)
from switchboard.config import Settings
from switchboard.errors import SwitchboardError

DeadlineOption = Annotated[
    float | None,
    typer.Option(
        "--deadline", help="Seconds for the whole detection (SWITCHBOARD_DETECT_DEADLINE)."
    ),
]


@app.command("detect")
def detect_command(
    url: Annotated[str, typer.Argument(help="An http(s) URL, or a bare host name.")],
    db: DbOption = None,
    namespace: NamespaceOption = None,
    output: OutputOption = "table",
    deadline: DeadlineOption = None,
) -> None:
    """Ask every plugin what is behind URL (OpenAPI, GraphQL, MCP, ...), in parallel under one
    deadline. Suggested slugs are unique in the tenant's catalog."""
    _check_output(output)
    settings = _settings(db=db, detect_deadline=deadline)
    detection = asyncio.run(_detect(settings, url, namespace or "default"))
    if output == "json":
        _dump(detection.dump(), "json")
    else:
        _print(detection)
    raise typer.Exit(0 if detection.results else 1)


async def _detect(settings: Settings, url: str, tenant: str) -> Detection:
    context = _open(settings)
    try:
        taken = {r.slug for r in context.store.list_integrations(tenant)}
        taken |= {s.slug for s in static_integrations(context.registry)}
        return await detect(url, context.registry, context.plugin_context(), taken=taken)
    except SwitchboardError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    finally:
        await context.aclose()


def _print(detection: Detection) -> None:
    if detection.results:
        table = Table()
        for column in ("#", "KIND", "CONFIDENCE", "SLUG", "NAME", "ENDPOINT"):
            table.add_column(column, overflow="fold")
        for rank, result in enumerate(detection.results, start=1):
            table.add_row(
                str(rank), result.kind, result.confidence, result.slug, result.name, result.endpoint
            )
        out.print(table)
    else:
        out.print(f"nothing detected at {detection.url}")
    fared = []
    for report in detection.detectors:
        detail = report.confidence or report.error or ""
        fared.append(f"{report.plugin} {report.outcome}{f' ({detail})' if detail else ''}")
    out.print(
        f"detectors: {', '.join(fared)}; {detection.seconds:.2f} s of {detection.deadline:g} s"
    )
