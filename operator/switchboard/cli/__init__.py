"""The `switchboard` command line. Each command lives in its own module and registers on `app`."""

from __future__ import annotations

from switchboard.cli import cataloging, reconciling, rendering  # noqa: F401 - they register commands
from switchboard.cli.common import app


def main() -> None:
    app()


__all__ = ["app", "main"]
