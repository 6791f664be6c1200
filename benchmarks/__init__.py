"""Benchmarks: `make bench` runs every `bench_*.py` module, prints a table and writes JSON.

Each module defines `run() -> list[Row]`. Times are compared with a floor measured in the same run
(a ratio), because the machine is shared and noisy; absolute seconds are reported beside them.
"""
