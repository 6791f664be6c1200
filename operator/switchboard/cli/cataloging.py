"""`switchboard catalog list|get|tools`: reading the mirror."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from switchboard.catalog.addressing import connection_tools, static_tools
from switchboard.cli.common import (
    DbOption,
    NamespaceOption,
    OutputOption,
    _check_output,
    _dump,
    _open,
    _settings,
    catalog_app,
    close,
    err,
    out,
)
from switchboard.errors import SwitchboardError
from switchboard.storage.connections import SqlConnectionStore


@catalog_app.command("list")
def catalog_list(
    db: DbOption = None, namespace: NamespaceOption = None, output: OutputOption = "table"
) -> None:
    """List integrations: built-in ones first, then the mirror's rows."""
    _check_output(output)
    context = _open(_settings(db=db))
    try:
        views = context.catalog.list_integrations(namespace)
    finally:
        close(context)
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
    slug: str,
    db: DbOption = None,
    namespace: NamespaceOption = None,
    output: OutputOption = "table",
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
        close(context)
    _dump(view.dump(), output if output == "json" else "yaml")


@catalog_app.command("tools")
def catalog_tools(
    db: DbOption = None,
    namespace: NamespaceOption = None,
    integration: Annotated[str | None, typer.Option(help="Only this integration.")] = None,
    output: OutputOption = "table",
) -> None:
    """List tools with their addresses: built-in ones; each ready connection's (its
    integration's shared tools and its own) as `tools.<integration>.<owner>.<connection>.<tool>`;
    and, as `<integration>.<tool>`, those of integrations no connection uses yet."""
    _check_output(output)
    context = _open(_settings(db=db))
    try:
        connections = SqlConnectionStore(context.engine)
        views = static_tools(context.registry, integration) + connection_tools(
            context.store, connections, namespace, integration
        )
    finally:
        close(context)
    if output == "json":
        _dump([v.dump() for v in views], "json")
        return
    table = Table()
    for column in ("ADDRESS", "SUBJECT", "APPROVAL", "DESCRIPTION"):
        table.add_column(column, overflow="fold")
    for v in views:
        table.add_row(
            v.address,
            v.subject or "",
            "yes" if v.requires_approval else "",
            v.description.splitlines()[0] if v.description else "",
        )
    out.print(table)
