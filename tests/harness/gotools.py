"""Small Go programs the tests run (helm, Argo CD's Lua engine): built with `go build` from a Go
module under tests/ on first use, cached beside the kube-apiserver build, keyed by the module's
go.mod and go.sum, so a change of pinned version rebuilds and nothing else does."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

from harness.kube import KubeHarnessError, _file_lock, _find_go, _is_executable, _say, cache_root


def ensure_go_tool(name: str, module: Path, package: str, *, ldflags: str = "") -> Path:
    """The binary of `package` (built in `module`), from the cache or built into it now."""
    digest = hashlib.sha256(
        (module / "go.mod").read_bytes() + (module / "go.sum").read_bytes()
    ).hexdigest()
    folder = cache_root().parent / name / digest[:16]
    binary = folder / name
    stamp = folder / "build.json"
    expected = {"package": package, "module_sha256": digest, "ldflags": ldflags}

    def current() -> bool:
        try:
            built = json.loads(stamp.read_text()) == expected
        except (OSError, ValueError):
            return False
        return built and _is_executable(binary)

    if current():
        return binary
    with _file_lock(folder / ".build.lock"):
        if current():
            return binary
        partial = folder / f".{name}.partial-{os.getpid()}"
        started = time.monotonic()
        _say(f"go build {package} (first use)")
        env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOWORK": "off"}
        result = subprocess.run(
            [_find_go(), "build", "-mod=readonly", "-trimpath",
             f"-ldflags=-s -w {ldflags}".strip(), "-o", str(partial), package],
            cwd=module, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise KubeHarnessError(f"go build {package} failed:\n{result.stderr[-4000:]}")
        partial.replace(binary)
        stamp.write_text(json.dumps(expected))
        _say(f"built {name} in {time.monotonic() - started:.0f}s")
    return binary
