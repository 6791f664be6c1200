"""The read-side HTTP API: the catalog's public projection (never `config`) and URL detection.

Writes go through manifests (kubectl, Argo CD or file mode), so the API only reads; mutations
here would drift from the declared state.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from switchboard.catalog.detecting import detect
from switchboard.catalog.querying import Catalog
from switchboard.errors import (
    IntegrationAlreadyExistsError,
    IntegrationNotFoundError,
    IntegrationRemovalNotAllowedError,
    PermanentError,
    SwitchboardError,
    TemporaryError,
)
from switchboard.plugins.contract import PluginContext

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


class DetectRequest(BaseModel):
    url: str = Field(max_length=4096)
    """The URL to detect; trimmed, at most 2,048 characters once trimmed, http(s) only."""
    namespace: str | None = None
    """Tenant whose slugs the suggested slug must not collide with."""


def create_app(catalog: Catalog, plugins: PluginContext | None = None) -> FastAPI:
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

    @app.post("/api/integrations/detect")
    async def detect_url(body: DetectRequest) -> dict[str, Any]:
        if plugins is None:
            raise TemporaryError("detection is not configured on this server")
        tenant = body.namespace or "default"
        taken = {view.slug for view in catalog.list_integrations(tenant)}
        detection = await detect(body.url, catalog.registry, plugins, taken=taken)
        return detection.dump()

    return app
