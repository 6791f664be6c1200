"""Measuring a function in a fresh process: wall time and peak RSS, isolated from the parent."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    """One line of the results table."""

    benchmark: str
    case: str
    metric: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    result: Any


def _child(fn: Callable[..., Any], args: tuple[Any, ...], queue: Any) -> None:
    start = time.perf_counter()
    try:
        result = fn(*args)
        error = None
    except BaseException as exc:  # reported to the parent, which re-raises
        result, error = None, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((seconds, peak_kb / 1024.0, result, error))


def isolated(fn: Callable[..., Any], *args: Any, timeout: float = 1800) -> Measured:
    """Run `fn(*args)` in a spawned process (a clean heap); `fn` must be importable."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(fn, args, queue))
    process.start()
    seconds, peak, result, error = queue.get(timeout=timeout)
    process.join(timeout=60)
    if error is not None:
        raise RuntimeError(f"benchmark child failed: {error}")
    return Measured(seconds=seconds, peak_rss_mb=peak, result=result)


def baseline_rss() -> Measured:
    """Peak RSS of a spawned interpreter that only imports the package: the memory floor's floor."""
    return isolated(_import_only)


def _import_only() -> None:
    import switchboard.cli  # noqa: F401
