"""npm packages as test and benchmark fixtures (the GitHub GraphQL schema from
`@octokit/graphql-schema`): installed once per version into a cache outside the repository, so no
large file is committed. Without npm this fails loudly: a fixture that skips proves nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

GITHUB_SCHEMA = ("@octokit/graphql-schema", "15.26.1")
"""Pinned: the benchmark and the counts the tests assert must not drift with upstream releases."""


class NpmUnavailableError(RuntimeError):
    """npm is missing or the install failed."""


def cache_root() -> Path:
    """$SWITCHBOARD_NPM_CACHE, else $XDG_CACHE_HOME (~/.cache)/switchboard/npm."""
    explicit = os.environ.get("SWITCHBOARD_NPM_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "switchboard" / "npm"


def install(package: str, version: str) -> Path:
    """The installed package directory (`.../node_modules/<package>`), installing on first use."""
    target = cache_root() / f"{package.replace('/', '+')}@{version}"
    installed = target / "node_modules" / package
    if (installed / "package.json").is_file():
        return installed
    npm = shutil.which("npm")
    if npm is None:
        raise NpmUnavailableError(
            f"npm is required to fetch the {package} fixture; install Node.js (apt-get install npm)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        result = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(staging),
                "--no-save",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                f"{package}@{version}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise NpmUnavailableError(
                f"npm install {package}@{version} failed:\n{result.stderr[-2000:]}"
            )
        # Rename into place: a concurrent run sees either nothing or a complete install.
        try:
            staging.rename(target)
        except OSError:
            if not (installed / "package.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return installed


def github_schema(form: str = "json") -> Path:
    """The GitHub GraphQL schema: `json` (an introspection result, ~5 MB) or `graphql` (SDL)."""
    path = install(*GITHUB_SCHEMA) / f"schema.{form}"
    if not path.is_file():
        raise NpmUnavailableError(f"{path} is missing from the installed package")
    return path
