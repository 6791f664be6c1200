"""Durations as written in manifests (`90s`, `30m`, `1h30m`, `1d`)."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`1h30m` → 5400 s. Raises ValueError on anything else."""
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a duration like 90s, 30m, 1h30m or 1d")
    return timedelta(seconds=sum(float(n) * _UNIT[u] for n, u in parts))
