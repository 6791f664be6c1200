"""What the handlers share, kept in kopf's memo: the app context, the Kubernetes client, the
operator's options, per-object locks, the registration gate and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from switchboard.config import Settings
from switchboard.context import AppContext
from switchboard.storage.connections import SqlConnectionStore
from switchboard.storage.credentials import ClusterCredentials
from switchboard.storage.kubernetes import KubeClient, load_credentials

log = logging.getLogger(__name__)

GROUP = "switchboard.dev"
VERSION = "v1alpha1"
KOPF_PREFIX = "kopf.switchboard.dev"
"""kopf's bookkeeping annotations (`last-handled-configuration`, handler progress). Not
`switchboard.dev/` itself: kopf leaves every annotation under its own prefix out of change
detection, and `switchboard.dev/refresh-requested-at` must trigger a reconcile."""
FINALIZER = "switchboard.dev/finalizer"
REFRESH_ANNOTATION = "switchboard.dev/refresh-requested-at"


@dataclass(frozen=True)
class WebhookOptions:
    """The validating admission webhook's server and how the API server reaches it."""

    listen: str = "127.0.0.1"
    port: int = 9443
    host: str | None = None
    """Host name or address in the webhook URL (default: the listen address)."""
    cert_file: Path | None = None
    key_file: Path | None = None
    """A serving certificate (e.g. from cert-manager); absent: a self-signed one per start."""
    ca_file: Path | None = None
    """The CA bundle the API server verifies the certificate with (default: the cert itself)."""
    managed: str | None = "switchboard.dev"
    """Name of the ValidatingWebhookConfiguration the operator keeps current; None when it is
    installed by the chart instead (then the operator needs no RBAC on webhook configurations)."""


@dataclass(frozen=True)
class OperatorOptions:
    """Everything `switchboard operator` adds to the settings tree."""

    kubeconfig: Path | None = None
    peering: str = "switchboard"
    """The peering object's name; used when it exists (kopf's auto-detection), else standalone."""
    webhook: WebhookOptions | None = field(
        default_factory=lambda: WebhookOptions(port=0, managed=None)
    )
    """Under `kopf run -m` no configuration names the server: it serves, nothing calls it."""
    refresh_jitter: float = 0.1
    """Periodic refreshes are spread by up to this fraction of their interval."""


@dataclass
class Runtime:
    """Built once at operator start-up; every handler reaches it as `memo.runtime`."""

    app: AppContext
    kube: KubeClient
    connections: SqlConnectionStore
    credentials: ClusterCredentials
    options: OperatorOptions
    gate: asyncio.Semaphore
    indices: dict[str, Any] = field(default_factory=dict)
    """kopf's in-memory indices by name (live views), for work started outside a handler."""
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    again: set[str] = field(default_factory=set)
    reconciles: int = 0
    """Reconciles that ran the shared reconcile path, for the probe and the benchmark."""

    @classmethod
    def create(cls, settings: Settings, options: OperatorOptions) -> Runtime:
        app = AppContext.create(settings)
        kube = KubeClient(lambda: load_credentials(options.kubeconfig))
        return cls(
            app=app,
            kube=kube,
            connections=SqlConnectionStore(app.engine),
            # Credentials come from Secrets in the connection's own namespace, nowhere else.
            credentials=ClusterCredentials(kube.read_secret),
            options=options,
            gate=asyncio.Semaphore(settings.concurrency),
        )

    def lock(self, uid: str) -> asyncio.Lock:
        """One lock per object: kopf's handlers, refresh daemons and dependency triggers of the
        same object never reconcile it at the same time."""
        return self.locks.setdefault(uid, asyncio.Lock())

    def forget(self, uid: str) -> None:
        self.locks.pop(uid, None)

    def spawn(self, key: str, work: Callable[[], Awaitable[None]], *, delay: float = 0) -> None:
        """Run `work` in the background once per key. A request while one runs is remembered
        and run once more afterwards (it may have read the object or the Secret too early);
        more requests meanwhile fold into that one."""
        if key in self.tasks:
            self.again.add(key)
            return

        async def run() -> None:
            try:
                if delay:
                    await asyncio.sleep(delay)
                await work()
            except Exception:  # a background task has no caller to raise to: log, keep going
                log.exception("background reconcile %s failed", key)
            finally:
                self.tasks.pop(key, None)
                if key in self.again:
                    self.again.discard(key)
                    self.spawn(key, work)

        self.tasks[key] = asyncio.get_running_loop().create_task(run(), name=key)

    async def aclose(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        for task in list(self.tasks.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.kube.aclose()
        await self.app.aclose()
