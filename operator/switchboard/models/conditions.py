"""kstatus-compatible conditions and the pure helper that sets one without churning timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from switchboard.models.base import CamelModel

ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(CamelModel):
    """One observation about a resource, in the shape of `metav1.Condition`."""

    type: str
    """CamelCase name: Ready, Reconciling, Stalled, Registered, Mirrored, ..."""
    status: ConditionStatus
    """True, False or Unknown."""
    reason: str
    """CamelCase, one word, for `kubectl get`."""
    message: str = ""
    """Short and static; names the field at fault. Never a secret or a DNS result."""
    last_transition_time: str = Field(default="")
    """RFC 3339 time the status last changed (not the reason or message)."""
    observed_generation: int | None = None
    """The `metadata.generation` this condition was computed for."""


def now_rfc3339(now: datetime) -> str:
    """Kubernetes time format: seconds precision, `Z` suffix."""
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: list[Condition],
    new: Condition,
    *,
    now: datetime,
) -> list[Condition]:
    """Return `conditions` with `new` in place of its type, keeping `lastTransitionTime` when the
    status did not change (so a no-op reconcile writes the same bytes)."""
    out: list[Condition] = []
    replaced = False
    for old in conditions:
        if old.type != new.type:
            out.append(old)
            continue
        replaced = True
        keep = old.status == new.status and old.last_transition_time
        stamped = new.model_copy(
            update={"last_transition_time": old.last_transition_time if keep else now_rfc3339(now)}
        )
        out.append(stamped)
    if not replaced:
        out.append(new.model_copy(update={"last_transition_time": now_rfc3339(now)}))
    return out


def find(conditions: list[Condition], type_: str) -> Condition | None:
    """The condition of that type, if any."""
    return next((c for c in conditions if c.type == type_), None)


def is_true(conditions: list[Condition], type_: str) -> bool:
    found = find(conditions, type_)
    return found is not None and found.status == "True"


Event = tuple[str, str, str]
"""(type, reason, message): a Kubernetes Event, Normal or Warning."""


def transition(
    previous: list[Condition],
    updates: list[Condition],
    *,
    now: datetime,
    warn_when_true: frozenset[str] = frozenset(),
) -> tuple[list[Condition], list[Event]]:
    """Apply `updates` and list the Events their transitions deserve: one when `Ready` changes
    status or reason, and a Warning when a type in `warn_when_true` turns True. A no-op
    reconcile produces none (no Event storm on resyncs)."""
    conditions = list(previous)
    events: list[Event] = []
    for update in updates:
        old = find(conditions, update.type)
        conditions = set_condition(conditions, update, now=now)
        changed = old is None or old.status != update.status or old.reason != update.reason
        if changed and update.type == "Ready":
            events.append(
                ("Normal" if update.status == "True" else "Warning", update.reason, update.message)
            )
        elif changed and update.type in warn_when_true and update.status == "True":
            events.append(("Warning", update.reason, update.message))
    return with_reconciling(conditions, now=now), events


def with_reconciling(conditions: list[Condition], *, now: datetime) -> list[Condition]:
    """`conditions` with kstatus's `Reconciling` derived from `Ready` and `Stalled`: True while
    the controller keeps retrying (not Ready, not Stalled), else False. kstatus readers (Flux,
    kpt, cli-utils) read a resource without it as current even while it retries. Set after all
    of one reconcile's updates, so its `lastTransitionTime` moves only when it really changes."""
    ready = find(conditions, "Ready")
    if ready is None:
        return conditions
    stalled = is_true(conditions, "Stalled")
    retrying = ready.status != "True" and not stalled
    derived = Condition(
        type="Reconciling",
        status="True" if retrying else "False",
        reason=ready.reason if retrying else ("Stalled" if stalled else "Reconciled"),
        message=ready.message if retrying else "",
        observed_generation=ready.observed_generation,
    )
    return set_condition(conditions, derived, now=now)
