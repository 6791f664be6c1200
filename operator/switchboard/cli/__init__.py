"""The `switchboard` command line. Each command lives in its own module and registers on `app`."""

from __future__ import annotations

from switchboard.cli import (  # noqa: F401 - each module registers its commands
    cataloging,
    detecting,
    operating,
    reconciling,
    rendering,
    serving,
)
from switchboard.cli.common import app


def main() -> None:
    app()


__all__ = ["app", "main"]
