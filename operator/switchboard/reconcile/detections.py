"""What detection and the outbound policy leave on an Integration's status (pure): the ranked
list in `status.detection`, the `Detected` condition (verifying a pinned kind, never overriding
it), and `URLAllowed=False` when the outbound policy refused a URL."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from switchboard.catalog.detecting import Detection
from switchboard.catalog.registering import AUTO, nothing_detected
from switchboard.errors import SwitchboardError, URLNotAllowedError
from switchboard.models.conditions import Condition, ConditionStatus, find, set_condition
from switchboard.models.detection import CONFIDENCE_RANK
from switchboard.models.integration import Integration

if TYPE_CHECKING:
    from switchboard.reconcile.integrations import IntegrationOutcome

Verdict = tuple[ConditionStatus, str, str]


def detection_requested(resource: Integration) -> bool:
    return resource.spec.kind == AUTO or resource.spec.auto is not None


def verdict(kind: str, detection: Detection | None, error: SwitchboardError | None) -> Verdict:
    """(status, reason, message) of `Detected`. A pinned kind agrees when it has the top
    confidence among the answers (ties agree); otherwise it is a `KindMismatch`, reported and
    never acted on."""
    if detection is None:
        assert error is not None, "detection only goes missing when it failed"
        return "False", error.reason, str(error)
    best = detection.best
    if best is None:
        message = nothing_detected(detection).detail
        if kind != AUTO:
            message = f"no plugin recognized spec.auto.url; kind {kind!r} is kept as declared"
        return "False", "NothingDetected", message
    if kind == AUTO:
        return "True", "Detected", f"{best.kind} ({best.confidence} confidence)"
    pinned = detection.result_for(kind)
    if (
        pinned is not None
        and CONFIDENCE_RANK[pinned.confidence] == CONFIDENCE_RANK[best.confidence]
    ):
        return "True", "Detected", f"confirms {kind} ({pinned.confidence} confidence)"
    return (
        "False",
        "KindMismatch",
        f"spec.auto.url looks like {best.kind} ({best.confidence} confidence), not {kind}; "
        "the declared kind is kept",
    )


def mark(
    outcome: IntegrationOutcome,
    resource: Integration,
    detection: Detection | None,
    *,
    error: SwitchboardError | None,
    now: datetime,
) -> IntegrationOutcome:
    """`outcome` with detection's status fields and the `Detected` / `URLAllowed` conditions."""
    status = outcome.status
    generation = resource.metadata.generation
    conditions = list(status.conditions)
    updates: list[Condition] = []
    if detection_requested(resource):
        state, reason, message = verdict(resource.spec.kind, detection, error)
        updates.append(Condition(type="Detected", status=state, reason=reason, message=message))
        status.detection = detection.results if detection is not None else None
    else:
        conditions = [c for c in conditions if c.type != "Detected"]
        status.detection = None
    if isinstance(error, URLNotAllowedError):
        updates.append(
            Condition(type="URLAllowed", status="False", reason=error.reason, message=str(error))
        )
    elif error is None and find(conditions, "URLAllowed") is not None:
        updates.append(Condition(type="URLAllowed", status="True", reason="URLAllowed"))
    for update in updates:
        old = find(conditions, update.type)
        update.observed_generation = generation
        conditions = set_condition(conditions, update, now=now)
        moved = old is None or (old.status, old.reason) != (update.status, update.reason)
        if moved and update.status == "False":
            outcome.events.append(("Warning", update.reason, update.message))
    status.conditions = conditions
    return outcome
