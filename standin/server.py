"""A stand-in as a real HTTP server on a loopback socket, run by uvicorn in a background thread, so a test
can start it, point a client at it and stop it:

    with MyStandIn(...) as server:
        client = Client(base_url=server.root_url)

The socket is bound before the thread starts, so `port` is known (and taken) as soon as `start()` returns.
`StandInServer` adds the Python switches and views every stand-in has, on the same core as its HTTP control
surface, so a test can mix both.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Generic, Self

import uvicorn
from starlette.types import ASGIApp

from standin.core import CoreT, RecordT

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 10.0


class BackgroundServer:
    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str,
        port: int,
        thread_name: str,
        called: str,
        error: type[Exception],
        uvicorn_options: Mapping[str, Any] | None = None,
    ) -> None:
        """`port=0` picks a free port. `called` names the server in errors ("the emulator"), which are raised
        as `error`."""
        self.app = app
        self._host = host
        self._requested_port = port
        self._thread_name = thread_name
        self._called = called
        self._error = error
        self._uvicorn_options = dict(uvicorn_options or {})
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def root_url(self) -> str:
        if not self.port:
            raise self._error(f"{self._called} is not running; call start() or use it as a context manager")
        return f"http://{self._host}:{self.port}"

    def start(self) -> Self:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self._host, self._requested_port))
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", **self._uvicorn_options
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"{self._thread_name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise self._error(f"{self._called}'s HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=SHUTDOWN_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        self._server, self._thread, self._socket = None, None, None
        self.port = 0

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class StandInServer(BackgroundServer, Generic[CoreT, RecordT]):
    """A stand-in's server with the switches and views every stand-in has; each adds its own (and its own
    `inject_fault`, whose default path and errors are the service's)."""

    def __init__(self, core: CoreT, app: ASGIApp, **server: Any) -> None:
        self.core = core
        super().__init__(app, **server)

    def clear_faults(self) -> None:
        self.core.faults.clear()

    def requests(self) -> list[RecordT]:
        records: list[RecordT] = self.core.log.all()
        return records

    def clear_requests(self) -> None:
        self.core.log.clear()

    def reset(self) -> None:
        """Forget everything the API created, every injected fault and logged request; keep the settings."""
        self.core.reset()
