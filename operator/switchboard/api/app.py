"""The read-side HTTP API: the catalog's public projection for other systems (never `config`).

Writes go through manifests (kubectl, Argo CD or file mode), so the API only reads; mutations
here would drift from the declared state.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from switchboard.catalog.querying import Catalog
from switchboard.errors import (
    IntegrationAlreadyExistsError,
    IntegrationNotFoundError,
    IntegrationRemovalNotAllowedError,
    PermanentError,
    SwitchboardError,
    TemporaryError,
)

log = logging.getLogger(__name__)
Namespace = Annotated[str | None, Query(description="Tenant (namespace); all tenants when absent.")]


def status_for(error: SwitchboardError) -> int:
    """HTTP status per the reference: 404 missing, 409 conflicts, 400 bad input, 503 outages."""
    if isinstance(error, IntegrationNotFoundError):
        return 404
    if isinstance(error, IntegrationAlreadyExistsError | IntegrationRemovalNotAllowedError):
        return 409
    if isinstance(error, PermanentError):
        return 400
    if isinstance(error, TemporaryError):
        return 503
    return 500


def create_app(catalog: Catalog) -> FastAPI:
    app = FastAPI(
        title="Switchboard", version="0.1.0", docs_url="/api/docs", openapi_url="/api/openapi.json"
    )

    @app.exception_handler(SwitchboardError)
    async def _known(_: Request, exc: SwitchboardError) -> JSONResponse:
        body = {"error": exc.reason, "message": str(exc)}
        if exc.field:
            body["field"] = exc.field
        return JSONResponse(body, status_code=status_for(exc))

    @app.exception_handler(Exception)
    async def _unknown(_: Request, exc: Exception) -> JSONResponse:
        trace = uuid.uuid4().hex
        log.error("internal error %s: %s", trace, type(exc).__name__, exc_info=exc)
        return JSONResponse({"error": "InternalError", "traceId": trace}, status_code=500)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/integrations")
    async def list_integrations(namespace: Namespace = None) -> list[dict[str, Any]]:
        return [view.dump() for view in catalog.list_integrations(namespace)]

    @app.get("/api/integrations/{slug}")
    async def get_integration(slug: str, namespace: Namespace = None) -> dict[str, Any]:
        return catalog.get(namespace or "default", slug).dump()

    @app.get("/api/tools")
    async def list_tools(
        namespace: Namespace = None,
        integration: Annotated[str | None, Query()] = None,
    ) -> list[dict[str, Any]]:
        return [view.dump() for view in catalog.tools(namespace, integration)]

    return app
