"""Detection results: what a plugin believes is behind a URL."""

from __future__ import annotations

from typing import Any, Literal

from switchboard.models.base import CamelModel

Confidence = Literal["high", "medium", "low"]

CONFIDENCE_RANK: dict[str, int] = {"high": 3, "medium": 2, "low": 1}


class DetectionResult(CamelModel):
    """One plugin's answer for one URL."""

    kind: str
    """The plugin id."""
    confidence: Confidence
    endpoint: str
    name: str
    slug: str
    evidence: dict[str, Any] | None = None
    """What was observed: status codes, content types, version field, the probe that matched."""
