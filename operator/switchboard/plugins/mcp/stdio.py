"""A stdio MCP transport whose child gets only the environment it is given.

The SDK's stdio client merges the operator's HOME, USER, SHELL, PATH... into the child's
environment; a catalog operator must not hand its own environment to a third-party command.
Here the child sees the declared `env`, the connection's secret variables and a minimal PATH,
nothing else. Its stderr is discarded: it may echo secrets, and status must never show them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.abc
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage
from mcp_types import jsonrpc_message_adapter

from switchboard.errors import InvalidSpecError

MINIMAL_PATH = "/usr/local/bin:/usr/bin:/bin"
"""The child's PATH unless `env` sets one: enough for interpreters, nothing of the operator's."""
MAX_LINE_BYTES = 64 * 1024 * 1024
"""One JSON-RPC message per line; a child writing an endless line is cut off here."""
EXIT_GRACE = 2.0
"""Seconds for the child to exit after its stdin closes, and again after SIGTERM."""


@dataclass
class StdioCommand:
    """What to run. `returncode` is filled in once the child has exited."""

    executable: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    returncode: int | None = None


def child_environment(declared: Mapping[str, str], secrets: Mapping[str, str]) -> dict[str, str]:
    """Declared non-secret values, then secret variables, and PATH when neither sets it."""
    env = {**declared, **secrets}
    env.setdefault("PATH", MINIMAL_PATH)
    return env


def resolve_command(
    command: str, args: Sequence[str], env: dict[str, str], *, field: str
) -> StdioCommand:
    """The executable as an absolute path, looked up on the child's PATH (not the operator's)."""
    if "/" in command:
        found = command if os.access(command, os.X_OK) and Path(command).is_file() else None
    else:
        found = shutil.which(command, path=env.get("PATH", MINIMAL_PATH))
    if found is None:
        raise InvalidSpecError(
            f"command {command!r} is not an executable file (looked up on the server's PATH)",
            field=field,
        )
    return StdioCommand(executable=found, args=list(args), env=env)


async def _stop(process: anyio.abc.Process) -> None:
    """Close stdin, wait; then SIGTERM the process group, wait; then SIGKILL it."""
    with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        if process.stdin is not None:
            await process.stdin.aclose()
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None and process.returncode is None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
        with anyio.move_on_after(EXIT_GRACE):
            # Polled, not `process.wait()`: that also waits for pipe EOF, which a grandchild
            # holding the pipe would delay past the grace period.
            while process.returncode is None:  # noqa: ASYNC110
                await anyio.sleep(0.02)
        if process.returncode is not None:
            break
    with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        await process.aclose()


@asynccontextmanager
async def stdio_transport(command: StdioCommand) -> AsyncIterator[TransportStreams]:
    """Spawn the command in its own process group and speak JSON-RPC lines over its pipes."""
    process = await anyio.open_process(
        [command.executable, *command.args],
        env=command.env,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    read_send, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_receive = anyio.create_memory_object_stream[SessionMessage](0)

    async def reader() -> None:
        assert process.stdout is not None
        buffer = b""
        async with read_send:
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                async for chunk in process.stdout:
                    *lines, buffer = (buffer + chunk).split(b"\n")
                    if len(buffer) > MAX_LINE_BYTES:
                        await read_send.send(ValueError("the server wrote an over-long line"))
                        return
                    for line in lines:
                        if not line.strip():
                            continue
                        try:
                            message = jsonrpc_message_adapter.validate_json(line, by_name=False)
                        except ValueError as exc:  # malformed JSON-RPC: the session reports it
                            await read_send.send(exc)
                            continue
                        await read_send.send(SessionMessage(message))

    async def writer() -> None:
        assert process.stdin is not None
        async with write_receive:
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                async for outgoing in write_receive:
                    data = outgoing.message.model_dump_json(by_alias=True, exclude_unset=True)
                    await process.stdin.send(data.encode() + b"\n")

    async with anyio.create_task_group() as group:
        group.start_soon(reader)
        group.start_soon(writer)
        try:
            yield read_stream, write_stream
        finally:
            with anyio.CancelScope(shield=True):
                await write_stream.aclose()
                await read_stream.aclose()
                await _stop(process)
                command.returncode = process.returncode
            group.cancel_scope.cancel()
