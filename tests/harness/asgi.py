"""Serving an ASGI app (FastAPI, Starlette, Ariadne, an MCP server...) with uvicorn on a real
loopback socket, in a thread: the one server starter every test tier uses."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def running(
    app: Any,
    *,
    host: str = "127.0.0.1",
    on_port: Callable[[int], None] | None = None,
    **options: Any,
) -> Iterator[tuple[uvicorn.Server, int]]:
    """Yield the uvicorn server and its random free port; stop it afterwards. `on_port` runs
    before the server starts (for apps that must know their own address); `options` go to
    `uvicorn.Config` (lifespan is off unless asked for)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    if on_port is not None:
        on_port(port)
    config = uvicorn.Config(app, **{"log_level": "warning", "lifespan": "off", **options})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the ASGI test server did not start")
        time.sleep(0.01)
    try:
        yield server, port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_asgi(app: Any, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Yield the base URL of `app` served on a random free port."""
    with running(app, host=host) as (_, port):
        yield f"http://{host}:{port}"
