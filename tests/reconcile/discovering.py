"""A real plugin for connection tests: it discovers a connection's own tools over HTTP, sending the
connection's credentials the way its auth template says (like MCP or GraphQL discovery), so tests
can see what reached the server, make discovery fail, and watch concurrency.

Also helpers that build the stores, context and resources the connection tests share.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine

from harness.http import LoopbackServer, Reply, Seen
from switchboard.catalog.ports import CredentialProviders, WriteBatch
from switchboard.errors import CredentialsRejectedError, FetchError
from switchboard.models.auth import AuthMethodDescriptor
from switchboard.models.connection import Connection
from switchboard.models.integration import Integration
from switchboard.models.records import (
    IntegrationRecord,
    PluginCondition,
    Registration,
    ToolDefinition,
    ToolSet,
)
from switchboard.plugins.contract import (
    BasePlugin,
    ConnectionRequest,
    PluginContext,
    RegistrationRequest,
)
from switchboard.plugins.openapi import plugin as openapi_plugin
from switchboard.plugins.registry import PluginRegistry
from switchboard.plugins.templates import (
    NoneTemplate,
    describe_all,
    dump_templates,
    parse_templates,
    render,
)
from switchboard.reconcile.connections import ConnectionOutcome, ConnectionStores
from switchboard.reconcile.connections import reconcile_connection as _reconcile
from switchboard.reconcile.integrations import reconcile_integration
from switchboard.storage.connections import SqlConnectionStore
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy
from switchboard.storage.repository import SqlCatalogStore

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
BEARER = [
    {
        "slug": "bearer",
        "kind": "apikey",
        "placements": [{"carrier": "header", "name": "Authorization", "prefix": "Bearer "}],
    }
]


class DiscoveryPlugin(BasePlugin):
    """`spec.config: {endpoint, shared: [names], authenticationTemplate}`: `shared` become the
    integration's tools; each connection's own tools are `GET <endpoint>/tools` (a JSON list of
    names) sent with the connection's rendered credentials."""

    id = "discovery"
    order = 50

    async def register(self, request: RegistrationRequest, ctx: PluginContext) -> Registration:
        templates = parse_templates(request.config.get("authenticationTemplate", BEARER))
        config = {
            "endpoint": request.config["endpoint"],
            "authenticationTemplate": dump_templates(templates),
        }
        shared = list(request.config.get("shared", []))
        spec_hash = hashlib.sha256(json.dumps([config, shared]).encode()).hexdigest()
        record = IntegrationRecord(
            tenant=request.tenant,
            slug=request.slug,
            kind=self.id,
            name=request.name or request.slug,
            config=config,
            spec_hash=spec_hash,
        )
        tools = [ToolDefinition(name=n, description=f"shared {n}") for n in shared]
        return Registration(record=record, toolset=ToolSet(tools=tools))

    def describe_auth_methods(self, config: Mapping[str, Any]) -> list[AuthMethodDescriptor]:
        return describe_all(config.get("authenticationTemplate"))

    async def resolve_tools(
        self, integration: IntegrationRecord, connection: ConnectionRequest, ctx: PluginContext
    ) -> ToolSet:
        templates = parse_templates(integration.config["authenticationTemplate"])
        template = next(
            (t for t in templates if t.slug == connection.template), NoneTemplate(slug="none")
        )
        rendered = render(template, connection.values)
        query = f"?{urlencode(rendered['query'])}" if rendered["query"] else ""
        response = await ctx.http.request(
            "GET", f"{integration.config['endpoint']}/tools{query}", headers=rendered["headers"]
        )
        if response.status == 401:
            # Quotes the upstream on purpose: the core must take any credential back out.
            raise CredentialsRejectedError(f"upstream refused: {response.body.decode()}")
        if response.status >= 500:
            return ToolSet(
                incomplete=True,
                conditions=[
                    PluginCondition(
                        type="ToolsDiscovered",
                        status="False",
                        reason="UpstreamUnavailable",
                        message=f"tools endpoint answered {response.status}",
                    )
                ],
            )
        if response.status != 200:
            raise FetchError(f"tools endpoint answered {response.status}")
        names = json.loads(response.body)
        return ToolSet(tools=[ToolDefinition(name=n, description=f"own {n}") for n in names])


class ToolsRoute:
    """The `/tools` route: answers per token, records every Authorization header it saw, and
    measures how many requests were in flight at once."""

    def __init__(self, by_token: dict[str, list[str]], *, delay: float = 0.0) -> None:
        self.by_token = by_token
        self.delay = delay
        self.status: int | None = None
        self.seen: list[str] = []
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, seen: Seen) -> Reply:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if self.delay:
                threading.Event().wait(self.delay)
            auth = seen.headers.get("authorization", "")
            if not auth and "api_key=" in seen.path:  # a query placement
                auth = "Bearer " + seen.path.split("api_key=", 1)[1]
            self.seen.append(auth)
            if self.status is not None:
                return Reply(self.status, b"unavailable")
            token = auth.removeprefix("Bearer ")
            if token not in self.by_token:
                # Echoes what it got, as careless servers do.
                return Reply(401, f"bad token {token}".encode())
            return Reply(200, json.dumps(self.by_token[token]).encode())
        finally:
            with self._lock:
                self.active -= 1


@dataclass
class World:
    """Stores, registry and plugin context over one database and one loopback server."""

    engine: Engine
    catalog: SqlCatalogStore
    connections: SqlConnectionStore
    registry: PluginRegistry
    ctx: PluginContext
    server: LoopbackServer
    http: OutboundClient

    @property
    def stores(self) -> ConnectionStores:
        return ConnectionStores(self.catalog, self.connections)

    async def integration(self, name: str, spec: dict[str, Any], **meta: Any) -> Integration:
        resource = Integration.model_validate(
            {"metadata": {"name": name, "namespace": "acme", **meta}, "spec": spec}
        )
        outcome = await reconcile_integration(
            resource,
            store=self.catalog,
            registry=self.registry,
            ctx=self.ctx,
            now=NOW,
            manifest_hash=hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest(),
            force=True,
        )
        assert outcome.write is not None, outcome.error
        self.catalog.apply(WriteBatch(integrations=[outcome.write]))
        return resource

    async def discovery(self, name: str = "crm", shared: tuple[str, ...] = ("list",)) -> None:
        spec = {
            "kind": "discovery",
            "config": {"endpoint": self.server.url, "shared": list(shared)},
        }
        await self.integration(name, spec)

    async def reconcile(
        self,
        resource: Connection,
        credentials: CredentialProviders,
        *,
        now: datetime = NOW,
        apply: bool = True,
    ) -> ConnectionOutcome:
        outcome = await _reconcile(
            resource,
            stores=self.stores,
            registry=self.registry,
            ctx=self.ctx,
            credentials_provider=credentials,
            now=now,
        )
        if apply:
            outcome.apply(self.connections)
        return outcome


def make_world(engine: Engine, server: LoopbackServer, root: Path) -> World:
    http = OutboundClient(OutboundPolicy.from_allow(["127.0.0.0/8", "::1"]))
    ctx = PluginContext(documents=SourceReader(http=http, max_bytes=1 << 20, root=root), http=http)
    return World(
        engine=engine,
        catalog=SqlCatalogStore(engine),
        connections=SqlConnectionStore(engine),
        registry=PluginRegistry([openapi_plugin, DiscoveryPlugin()]),
        ctx=ctx,
        server=server,
        http=http,
    )


def connection(
    resource_name: str = "crm-main",
    /,
    *,
    integration: str = "crm",
    template: str = "bearer",
    owner: dict[str, str] | None = None,
    credentials: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    generation: int = 1,
    **spec: Any,
) -> Connection:
    body: dict[str, Any] = {
        "metadata": {"name": resource_name, "namespace": "acme", "generation": generation},
        "spec": {
            "integration": integration,
            "owner": owner or {"kind": "org"},
            "template": template,
            **({"credentials": credentials} if credentials is not None else {}),
            **spec,
        },
    }
    if status is not None:
        body["status"] = status
    return Connection.model_validate(body)
