"""Throwaway local PostgreSQL server for Switchboard tests (context manager and up/down CLI)."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[2]
ENSURE_SCRIPT = REPO_ROOT / "scripts" / "ensure-postgres.sh"
DEFAULT_STATE_FILE = REPO_ROOT / ".switchboard" / "pg-state.json"

REQUIRED_TOOLS = ("initdb", "pg_ctl", "postgres", "pg_isready", "psql")
DATABASE = "switchboard"
APP_ROLE = "switchboard"
SUPERUSER = "postgres"
HOST = "127.0.0.1"

# Appended to postgresql.conf; durability is pointless for a throwaway test cluster.
SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "max_connections": "100",
}


class LocalPostgresError(RuntimeError):
    """PostgreSQL could not be found, started, set up or stopped."""


def _has_tools(directory: str | Path) -> bool:
    return all(os.access(Path(directory) / tool, os.X_OK) for tool in REQUIRED_TOOLS)


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin -> (version,)
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name)) or (0,)


def find_bin_dir() -> str | None:
    """Return a directory holding the PostgreSQL server tools, or None.

    Order: $SWITCHBOARD_PG_BIN, the real directory of `initdb` on PATH (symlinks
    resolved), then /usr/lib/postgresql/*/bin, newest version first.
    """
    override = os.environ.get("SWITCHBOARD_PG_BIN")
    if override and _has_tools(override):
        return override
    on_path = shutil.which("initdb")
    if on_path:
        real_dir = Path(on_path).resolve().parent
        if _has_tools(real_dir):
            return str(real_dir)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for candidate in candidates:
        if _has_tools(candidate):
            return str(candidate)
    return None


def ensure_bin_dir() -> str:
    """Find the PostgreSQL bin dir, running scripts/ensure-postgres.sh (apt) if it is missing."""
    found = find_bin_dir()
    if found:
        return found
    if not ENSURE_SCRIPT.exists():
        raise LocalPostgresError(f"PostgreSQL not found and {ENSURE_SCRIPT} is missing")
    proc = subprocess.run(
        ["bash", str(ENSURE_SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines or not _has_tools(lines[-1]):
        raise LocalPostgresError(
            f"{ENSURE_SCRIPT} failed (exit {proc.returncode}):\n{_tail(proc.stderr)}\n{proc.stdout}"
        )
    return lines[-1]


def free_port() -> int:
    """Ask the kernel for a currently unused TCP port on the loopback address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _clean_env() -> dict[str, str]:
    # libpq and initdb honour PG* variables (PGHOST, PGDATA, ...): keep the caller's out.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.setdefault("LC_ALL", "C")
    return env


class LocalPostgres:
    """A private PostgreSQL cluster in a temp dir, listening on 127.0.0.1:<random port>.

    ``with LocalPostgres() as pg: create_engine(pg.url)``, or ``start()``/``stop()``.
    The app role ``switchboard`` (random password, CREATEDB) owns database
    ``switchboard`` and logs in over TCP with scram-sha-256; the bootstrap superuser
    ``postgres`` is reachable over the unix socket in the temp dir (trust). As root,
    the server runs as ``os_user`` (default ``postgres``): initdb refuses to run as root.
    """

    def __init__(
        self,
        *,
        bin_dir: str | None = None,
        os_user: str | None = None,
        password: str | None = None,
        start_timeout: float = 60.0,
        base_dir: str | None = None,
        detached: bool = False,
    ) -> None:
        self.bin_dir: str | None = bin_dir
        self.os_user: str | None = os_user
        self.user: str = APP_ROLE
        self.password: str = password if password is not None else secrets.token_hex(12)
        self.database: str = DATABASE
        self.host: str = HOST
        self.port: int = 0
        self.start_timeout = start_timeout
        self.base_dir = base_dir or os.environ.get("SWITCHBOARD_PG_TMPDIR")
        self.detached = detached
        self.tmp_dir: Path | None = None
        self.pid: int | None = None
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._atexit_registered = False

    # ----------------------------------------------------------------- paths
    @property
    def data_dir(self) -> Path:
        return self._require_tmp() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require_tmp() / "sock"

    @property
    def log_path(self) -> Path:
        return self._require_tmp() / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL: postgresql+psycopg://USER:PASS@127.0.0.1:PORT/switchboard."""
        user = quote(self.user, safe="")
        password = quote(self.password, safe="")
        return f"postgresql+psycopg://{user}:{password}@{self.host}:{self.port}/{self.database}"

    @property
    def libpq_url(self) -> str:
        """The same connection as a plain libpq URI (psql, psycopg.connect)."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    def _require_tmp(self) -> Path:
        if self.tmp_dir is None:
            raise LocalPostgresError("LocalPostgres is not started")
        return self.tmp_dir

    def _tool(self, name: str) -> str:
        if self.bin_dir is None:
            raise LocalPostgresError("PostgreSQL bin dir is not known")
        return str(Path(self.bin_dir) / name)

    # ------------------------------------------------------- process helpers
    def _drop_privileges(self) -> dict[str, Any]:
        """Popen kwargs that run a command as the unprivileged server user when we are root."""
        if os.geteuid() != 0 or self.os_user is None:
            return {}
        entry = pwd.getpwnam(self.os_user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _run_as_server_user(
        self, args: Sequence[str], timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            timeout=timeout,
            cwd=self._require_tmp(),
            env=_clean_env(),
            **self._drop_privileges(),
        )

    def server_log_tail(self, lines: int = 40) -> str:
        try:
            return _tail(self.log_path.read_text(encoding="utf-8", errors="replace"), lines)
        except (OSError, LocalPostgresError):
            return "(no server log)"

    def _fail(self, message: str) -> LocalPostgresError:
        tail = self.server_log_tail()
        return LocalPostgresError(f"{message}\n--- tail of PostgreSQL server log ---\n{tail}")

    def psql(self, sql: str, *, database: str = "postgres", superuser: bool = True) -> str:
        """Run SQL with psql; return its unaligned, tuples-only output.

        superuser=True: bootstrap superuser over the unix socket (trust).
        superuser=False: the app role over TCP on 127.0.0.1 with its password.
        """
        env = _clean_env()
        if superuser:
            target = ["-h", str(self.socket_dir), "-U", SUPERUSER]
        else:
            target = ["-h", self.host, "-U", self.user]
            env["PGPASSWORD"] = self.password
        proc = subprocess.run(
            [
                self._tool("psql"),
                "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1",
                *target,
                "-p", str(self.port),
                "-d", database,
                "-c", sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=60,
        )  # fmt: skip
        if proc.returncode != 0:
            raise self._fail(
                f"psql failed (exit {proc.returncode}) running {sql!r}:\n{proc.stderr.strip()}"
            )
        return proc.stdout.strip()

    def is_ready(self) -> bool:
        """True when pg_isready says the server accepts connections on 127.0.0.1:port."""
        if self.bin_dir is None or not self.port:
            return False
        proc = subprocess.run(
            [self._tool("pg_isready"), "-q", "-h", self.host, "-p", str(self.port), "-t", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_clean_env(),
            check=False,
        )
        return proc.returncode == 0

    # ----------------------------------------------------------- life cycle
    def start(self) -> Self:
        """initdb, start postgres, wait for pg_isready, create role and database."""
        if self.tmp_dir is not None:
            raise LocalPostgresError("LocalPostgres already started")
        began = time.monotonic()
        if self.bin_dir is None:
            self.bin_dir = ensure_bin_dir()
        if os.geteuid() == 0 and self.os_user is None:
            self.os_user = _pick_os_user()
        self.tmp_dir = Path(tempfile.mkdtemp(prefix="switchboard-pg-", dir=self.base_dir))
        try:
            self._init_cluster()
            self._launch_with_port_retries()
            self._wait_ready()
            self._create_role_and_database()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        if not self.detached and not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        return self

    def _init_cluster(self) -> None:
        tmp = self._require_tmp()
        self.socket_dir.mkdir()
        if os.geteuid() == 0 and self.os_user is not None:
            entry = pwd.getpwnam(self.os_user)
            for path in (tmp, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        proc = self._run_as_server_user(
            [
                self._tool("initdb"),
                "-D", str(self.data_dir),
                "-U", SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )  # fmt: skip
        if proc.returncode != 0:
            hint = ""
            if self.os_user is not None:
                hint = (
                    f"\n(initdb runs as OS user {self.os_user!r}: every parent of {tmp} must be"
                    " searchable by it; set SWITCHBOARD_PG_TMPDIR to choose another base dir)"
                )
            raise LocalPostgresError(
                f"initdb failed (exit {proc.returncode}) in {self.data_dir}:\n"
                f"{_tail(proc.stdout)}{hint}"
            )
        settings = {**SERVER_SETTINGS, "unix_socket_directories": f"'{self.socket_dir}'"}
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# switchboard test harness\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _launch_with_port_retries(self, attempts: int = 5) -> None:
        # Another process can take the port between free_port() and bind: retry on bind errors.
        for attempt in range(attempts):
            self.port = free_port()
            self._launch()
            if self._wait_listening():
                return
            log = self.server_log_tail(80)
            bind_error = "could not bind" in log or "Address already in use" in log
            if not bind_error or attempt == attempts - 1:
                raise self._fail(f"postgres exited during startup (exit {self._returncode()})")

    def _launch(self) -> None:
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [self._tool("postgres"), "-D", str(self.data_dir), "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._require_tmp(),
                env=_clean_env(),
                start_new_session=True,  # a terminal Ctrl-C must not kill it before stop()
                **self._drop_privileges(),
            )
        self.pid = self._proc.pid

    def _returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def _wait_listening(self) -> bool:
        """Wait until postmaster.pid shows open sockets; False if postgres exited first."""
        deadline = time.monotonic() + self.start_timeout
        pidfile = self.data_dir / "postmaster.pid"
        while time.monotonic() < deadline:
            if self._returncode() is not None:
                return False
            try:
                lines = pidfile.read_text(encoding="utf-8").splitlines()
            except OSError:
                lines = []
            # Line 8 (postmaster status) is written once the listen sockets are open.
            if len(lines) >= 8 and lines[7].strip():
                return True
            time.sleep(0.05)
        raise self._fail(f"postgres did not open its sockets within {self.start_timeout:.0f}s")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._returncode() is not None:
                raise self._fail(f"postgres exited during startup (exit {self._returncode()})")
            if self.is_ready():
                return
            time.sleep(0.1)
        raise self._fail(
            f"pg_isready failed on {self.host}:{self.port} for {self.start_timeout:.0f}s"
        )

    def _create_role_and_database(self) -> None:
        password = self.password.replace("'", "''")
        self.psql(f"CREATE ROLE \"{self.user}\" LOGIN CREATEDB PASSWORD '{password}'")
        self.psql(f'CREATE DATABASE "{self.database}" OWNER "{self.user}"')

    def stop(self) -> None:
        """Stop the server (pg_ctl stop -m fast), remove the temp dir. Safe to call twice."""
        tmp = self.tmp_dir
        if tmp is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists() and self.bin_dir:
                pg_ctl_stop = [self._tool("pg_ctl"), "stop", "-D", str(self.data_dir)]
                proc = self._run_as_server_user(
                    [*pg_ctl_stop, "-m", "fast", "-w", "-t", "30"], timeout=60
                )
                if proc.returncode != 0:
                    self._kill_hard()
            elif self._proc is not None and self._returncode() is None:
                self._kill_hard()
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._kill_hard()
                    self._proc.wait(timeout=10)
        finally:
            self._proc = None
            shutil.rmtree(tmp, ignore_errors=True)
            self.tmp_dir = None
            if self._atexit_registered:
                atexit.unregister(self.stop)
                self._atexit_registered = False

    def _kill_hard(self) -> None:
        if self.pid is None:
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)  # postgres leads its own session (start_new_session)
            except ProcessLookupError:
                return
            time.sleep(0.5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ CLI state
    def to_state(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "libpq_url": self.libpq_url,
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.database,
            "pid": self.pid,
            "bin_dir": self.bin_dir,
            "os_user": self.os_user,
            "tmp_dir": str(self.tmp_dir),
            "data_dir": str(self.data_dir),
            "socket_dir": str(self.socket_dir),
            "log_path": str(self.log_path),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        pg = cls(
            bin_dir=state["bin_dir"],
            os_user=state.get("os_user"),
            password=state["password"],
            detached=True,
        )
        pg.port = int(state["port"])
        pg.pid = state.get("pid")
        pg.tmp_dir = Path(state["tmp_dir"])
        return pg


def _pick_os_user() -> str:
    for name in (os.environ.get("SWITCHBOARD_PG_OS_USER"), "postgres", "nobody"):
        if not name:
            continue
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise LocalPostgresError("running as root but no unprivileged user (postgres, nobody) exists")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `up` (detached; prints the URL), `down`, `status`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", default=str(DEFAULT_STATE_FILE), help="default: %(default)s")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start a detached server (or reuse the live one); print its URL")
    sub.add_parser("down", help="stop the server in the state file and remove its files")
    sub.add_parser("status", help="print the URL if the recorded server is up, else exit 1")
    args = parser.parse_args(argv)
    state_path = Path(args.state)

    existing: LocalPostgres | None = None
    if state_path.exists():
        existing = LocalPostgres.from_state(json.loads(state_path.read_text(encoding="utf-8")))

    if args.command == "up":
        if existing is not None and existing.is_ready():
            print(existing.url)
            return 0
        if existing is not None:  # stale state: clean up what is left of it
            existing.stop()
            state_path.unlink()
        pg = LocalPostgres(detached=True)
        try:
            pg.start()
        except LocalPostgresError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        state_path.parent.mkdir(parents=True, exist_ok=True)
        state_path.write_text(json.dumps(pg.to_state(), indent=2) + "\n", encoding="utf-8")
        state_path.chmod(0o600)
        print(f"started in {pg.startup_seconds:.2f}s; state in {state_path}", file=sys.stderr)
        print(pg.url)
        return 0
    if args.command == "down":
        if existing is None:
            print(f"no state file at {state_path}; nothing to stop", file=sys.stderr)
            return 0
        existing.stop()
        state_path.unlink()
        print("stopped", file=sys.stderr)
        return 0
    if existing is not None and existing.is_ready():
        print(existing.url)
        return 0
    print("down", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
