"""Run the server with uvicorn: in the foreground (the CLI, one process or several workers) or on a background
thread (tests, benchmarks).

SIGTERM (or Ctrl-C) drains: uvicorn closes the listening socket, lets requests in flight finish (up to the
request timeout plus a margin), then the app's shutdown runs and the process exits 0. With `workers > 1`
uvicorn's supervisor shares one socket among the workers, restarts a worker that dies, and drains them all on
SIGTERM; every worker loads its own copy of the model, and no state is shared between them.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time

import uvicorn

from loralab.serve.options import OPTIONS_ENV, ServeOptions

LOOPBACK = "127.0.0.1"
DRAIN_MARGIN_S = 5.0


def serve_forever(options: ServeOptions, host: str = LOOPBACK, port: int = 8080, workers: int = 1,
                  log_level: str = "info", app=None) -> None:
    """One process: `app` (built by the caller, so load errors surface before anything listens). Several:
    each worker builds its own app from `options`."""
    drain = options.limits.request_timeout_s + DRAIN_MARGIN_S
    # uvicorn drains, then re-raises the SIGTERM it caught to the handler found at start: make that a clean
    # exit (0) instead of death by signal (-15), so supervisors see a graceful stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    common = {"host": host, "port": port, "log_level": log_level, "timeout_graceful_shutdown": drain}
    if workers <= 1:
        uvicorn.run(app, **common)
        return
    os.environ[OPTIONS_ENV] = options.to_env()  # the spawned workers read it
    uvicorn.run("loralab.serve.options:app_from_env", factory=True, workers=workers, **common)


def default_threads(workers: int) -> int:
    """Intra-op threads per worker so that workers x threads fits the cores (oversubscription is far slower)."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


class BackgroundServer:
    """A real uvicorn server on a free loopback port, on a daemon thread; use as a context manager."""

    def __init__(self, app, host: str = LOOPBACK):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
