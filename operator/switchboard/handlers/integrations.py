"""kopf handlers for `Integration`: reconcile on create/update/resume, remove through the
finalizer, refresh on `spec.refresh.interval`. Each is thin: the work is in `reconciling`."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import kopf

from switchboard.errors import TemporaryError
from switchboard.handlers.reconciling import reconcile_object, remove_object
from switchboard.handlers.runtime import GROUP, VERSION, Runtime
from switchboard.models.conditions import now_rfc3339
from switchboard.reconcile.durations import parse_duration
from switchboard.reconcile.integrations import IntegrationOutcome

PLURAL = "integrations"
REMOVAL_RETRY = 300.0
"""Seconds between re-checks of a refused deletion (the plugin may allow it later)."""


def _retry_later(outcome: IntegrationOutcome) -> None:
    # Outages are retried by kopf with the error's delay; bad input waits for a new spec.
    if isinstance(outcome.error, TemporaryError):
        raise kopf.TemporaryError(str(outcome.error), delay=outcome.error.delay)


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
async def reconcile(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    outcome = await reconcile_object(body, memo.runtime)
    if outcome.action != "unchanged":
        logger.info(
            "%s: slug=%s ready=%s reason=%s",
            outcome.action,
            outcome.slug,
            outcome.ready,
            outcome.error.reason if outcome.error else "",
        )
    _retry_later(outcome)


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def remove(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    refused = await remove_object(body, memo.runtime)
    if refused is not None:
        # The finalizer stays until the plugin allows removal; kopf re-checks after the delay.
        raise kopf.TemporaryError(str(refused), delay=REMOVAL_RETRY)
    logger.info("removed from the catalog")


def _refreshes(spec: kopf.Spec, status: kopf.Status, **_: Any) -> bool:
    return bool((spec.get("refresh") or {}).get("interval")) and bool(status.get("canRefresh"))


def next_refresh(last: str | None, interval: float, jitter: float, now: datetime) -> float:
    """Seconds until the next refresh: the interval after `last` (RFC 3339), plus a random share
    of it so that objects created together do not refresh together."""
    due = 0.0
    if last:
        then = datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        due = max(0.0, interval - (now - then).total_seconds())
    return due + random.uniform(0, interval * jitter)  # noqa: S311 - jitter, not a secret


@kopf.daemon(GROUP, VERSION, PLURAL, when=_refreshes, cancellation_timeout=5.0)
async def refresh(
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    **_: Any,
) -> None:
    """Re-read a refreshable source every `spec.refresh.interval` (body and spec are live views);
    after a failure the next attempt also waits an interval, never a tight loop."""
    runtime: Runtime = memo.runtime
    last = status.get("lastSuccessTime")
    while not stopped:
        interval = parse_duration(spec["refresh"]["interval"]).total_seconds()
        now = datetime.now(UTC)
        await stopped.wait(next_refresh(last, interval, runtime.options.refresh_jitter, now))
        if stopped:
            return
        outcome = await reconcile_object(body, runtime)
        last = outcome.status.last_success_time if outcome.ready else now_rfc3339(datetime.now(UTC))
