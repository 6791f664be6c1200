"""kopf handlers for `Connection`: reconcile on create/update/resume, remove its rows through the
finalizer. Thin: the work is in `connecting`."""

from __future__ import annotations

from typing import Any

import kopf

from switchboard.errors import TemporaryError
from switchboard.handlers.connecting import (
    PLURAL,
    reconcile_connection_object,
    remove_connection_object,
)
from switchboard.handlers.runtime import GROUP, VERSION


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
async def reconcile_connection(
    body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    handled = await reconcile_connection_object(body, memo.runtime)
    if handled.action != "unchanged":
        logger.info(
            "%s: address=%s ready=%s reason=%s",
            handled.action,
            handled.address,
            handled.ready,
            handled.error.reason if handled.error else "",
        )
    if isinstance(handled.error, TemporaryError):
        raise kopf.TemporaryError(str(handled.error), delay=handled.error.delay)


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def remove_connection(
    body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    await remove_connection_object(body, memo.runtime)
    logger.info("removed from the catalog")
