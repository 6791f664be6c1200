"""The one typed context: settings, the database, the HTTP client, the plugin registry. Built at
startup, closed at cleanup; nothing else reads the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from switchboard.catalog.querying import Catalog
from switchboard.config import Settings
from switchboard.plugins.contract import PluginContext
from switchboard.plugins.registry import PluginRegistry, load_plugins
from switchboard.storage.database import open_database
from switchboard.storage.documents import ConfigMapReader, SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy, client_factory
from switchboard.storage.repository import SqlCatalogStore


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    store: SqlCatalogStore
    registry: PluginRegistry
    http: OutboundClient
    policy: OutboundPolicy

    @classmethod
    def create(cls, settings: Settings) -> AppContext:
        engine = open_database(settings.db)
        policy = OutboundPolicy.from_allow(
            settings.outbound_allow,
            max_bytes=settings.max_spec_bytes,
            connect_timeout=settings.connect_timeout,
            deadline=settings.fetch_deadline,
        )
        return cls(
            settings=settings,
            engine=engine,
            store=SqlCatalogStore(engine),
            registry=load_plugins(lazy=True),
            http=OutboundClient(policy),
            policy=policy,
        )

    @property
    def catalog(self) -> Catalog:
        return Catalog(self.store, self.registry)

    def plugin_context(
        self,
        *,
        root: Path | None = None,
        config_maps: ConfigMapReader | None = None,
        namespace: str | None = None,
    ) -> PluginContext:
        reader = SourceReader(
            http=self.http,
            max_bytes=self.settings.max_spec_bytes,
            root=root,
            config_maps=config_maps,
            namespace=namespace,
        )
        return PluginContext(
            documents=reader,
            http=self.http,
            client_factory=client_factory(self.policy),
            max_spec_bytes=self.settings.max_spec_bytes,
            allow_stdio=self.settings.mcp_allow_stdio,
            detect_deadline=self.settings.detect_deadline,
        )

    async def aclose(self) -> None:
        await self.http.aclose()
        self.engine.dispose()
