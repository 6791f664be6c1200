"""`python -m benchmarks [NAME...]`: run the benchmark modules, print a table, write JSON."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

import benchmarks
from benchmarks.measure import Row

OUT = Path(".bench")


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks")
    parser.add_argument("names", nargs="*", help="bench modules to run (default: all)")
    args = parser.parse_args()
    modules = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )
    if args.names:
        modules = [m for m in modules if any(n in m for n in args.names)]
    console = Console(width=200)
    rows: list[Row] = []
    failures = []
    for name in modules:
        module = importlib.import_module(f"benchmarks.{name}")
        console.print(f"[bold]{name}[/] ...")
        started = time.perf_counter()
        try:
            rows.extend(module.run())
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            console.print(f"[red]{name} failed:[/] {exc}")
        console.print(f"  {time.perf_counter() - started:.1f} s")
    table = Table(title="Switchboard benchmarks")
    for column in ("benchmark", "case", "metric", "value", "unit", "target", "ok"):
        table.add_column(column)
    for row in rows:
        ok = "" if row.ok is None else ("yes" if row.ok else "NO")
        table.add_row(
            row.benchmark, row.case, row.metric, f"{row.value:,.3f}", row.unit, row.target, ok
        )
    console.print(table)
    OUT.mkdir(exist_ok=True)
    path = OUT / "results.json"
    path.write_text(json.dumps({"rows": [asdict(r) for r in rows], "failures": failures}, indent=2))
    console.print(f"wrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
