"""Operator start-up and shutdown: kopf's settings (its bookkeeping under `kopf.switchboard.dev/`,
Events, the webhook server), the shared runtime, the login, and the liveness probe."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from switchboard.config import Settings
from switchboard.handlers.dependencies import INDICES
from switchboard.handlers.runtime import (
    FINALIZER,
    KOPF_PREFIX,
    OperatorOptions,
    Runtime,
)
from switchboard.handlers.serving import WebhookEndpoint, webhook_endpoint
from switchboard.handlers.webhooks import validating_configuration
from switchboard.storage.kubernetes import load_credentials

WEBHOOK_CONFIGURATIONS = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
PEERING_LIFETIME = 60
"""Seconds a silent peer is still believed alive (kopf's default); standbys wait this long."""


def configure(
    settings: kopf.OperatorSettings, options: OperatorOptions, endpoint: WebhookEndpoint | None
) -> None:
    """kopf's knobs. Bookkeeping annotations and the finalizer carry our prefix; kopf's own
    progress Events are off (we post Events on condition transitions only)."""
    persistence = settings.persistence
    persistence.finalizer = FINALIZER
    persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_PREFIX, key="last-handled-configuration"
    )
    settings.posting.reporting_component = "switchboard"
    settings.posting.event_name_prefix = "switchboard-"
    settings.posting.loggers = False
    # A stalled watch behind a load balancer is noticed and restarted.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.peering.name = options.peering
    settings.peering.lifetime = PEERING_LIFETIME
    # One line per API call at INFO would drown the operator's own records.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if endpoint is not None:
        settings.admission.server = endpoint.server
        settings.admission.managed = None  # ours, with matchConditions: see `webhooks`


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: kopf.Memo, **kwargs: Any) -> None:
    """`switchboard operator` puts its options and settings in the memo; under
    `kopf run -m switchboard.handlers` the settings come from the environment alone."""
    options: OperatorOptions = memo.get("options") or OperatorOptions()
    endpoint = webhook_endpoint(options.webhook) if options.webhook is not None else None
    configure(settings, options, endpoint)
    if memo.get("runtime") is None:
        memo.runtime = Runtime.create(memo.get("settings") or Settings(), options)
    runtime: Runtime = memo.runtime
    # kopf hands its indices to handlers by name; background work finds them here.
    runtime.indices = {name: kwargs[name] for name in INDICES if name in kwargs}
    managed = options.webhook.managed if options.webhook is not None else None
    if endpoint is not None and managed:
        body = validating_configuration(managed, endpoint.url, endpoint.ca_bundle)
        await runtime.kube.ensure(WEBHOOK_CONFIGURATIONS, body)


@kopf.on.login()
def login(memo: kopf.Memo, **_: Any) -> kopf.ConnectionInfo:
    """kopf and our own client authenticate the same way (in-cluster or the kubeconfig)."""
    runtime: Runtime = memo.runtime
    credentials = load_credentials(runtime.options.kubeconfig)
    return kopf.ConnectionInfo(
        server=credentials.server,
        ca_data=credentials.ca_data,
        insecure=credentials.insecure,
        scheme="Bearer" if credentials.token else None,
        token=credentials.token,
        certificate_data=credentials.certificate_data,
        private_key_data=credentials.private_key_data,
    )


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    """The API server stops calling a webhook that is going away; then everything closes."""
    runtime: Runtime | None = memo.get("runtime")
    if runtime is None:
        return
    managed = runtime.options.webhook.managed if runtime.options.webhook is not None else None
    try:
        if managed:
            path = f"{WEBHOOK_CONFIGURATIONS}/{managed}"
            await runtime.kube.merge(path, {"webhooks": []})
    finally:
        await runtime.aclose()


@kopf.on.probe(id="catalog")
async def catalog_probe(memo: kopf.Memo, **_: Any) -> dict[str, Any]:
    """Liveness includes one cheap database query: a failing database fails the probe. (On the
    loop, like every other database call, not in kopf's thread pool.)"""
    runtime: Runtime = memo.runtime
    runtime.app.store.get("", "")
    return {"database": "ok", "reconciles": runtime.reconciles}
