"""`switchboard serve`: the read-side HTTP API over the catalog mirror."""

from __future__ import annotations

from typing import Annotated

import typer

from switchboard.cli.common import DbOption, _open, _settings, app


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """Serve the catalog over HTTP: /api/integrations[/{slug}], /api/tools, detection."""
    import uvicorn  # imported here: the other commands need no web server

    from switchboard.api.app import create_app

    context = _open(_settings(db=db))
    api = create_app(context.catalog, context.plugin_context())
    uvicorn.run(api, host=host, port=port, log_level="info")
