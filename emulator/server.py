"""FlyEmulator: the emulator as a real HTTP server on 127.0.0.1, run in a background thread.

    with FlyEmulator(gpus_offered=True) as emu:
        client = MyClient(base_url=emu.base_url, token="anything")

The Python methods act on the same core the HTTP control surface does, so a test can mix both.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from emulator import introspect
from emulator.asgi import build_app
from emulator.core import Core
from emulator.errors import FlyError
from emulator.reqlog import RequestRecord
from emulator.state import Settings

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 10.0


class EmulatorError(RuntimeError):
    """A control call the emulator refused (bad setting, unknown volume, ...)."""


def _unwrap(exc: FlyError) -> EmulatorError:
    return EmulatorError(f"{exc.status}: {exc.message}")


class FlyEmulator:
    def __init__(
        self,
        *,
        gpus_offered: bool = False,
        latency: float = 0.0,
        token: str | None = None,
        rate_limit: bool = False,
        boot_seconds: float = 0.1,
        transition_seconds: float = 0.05,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        settings = Settings(
            gpus_offered=gpus_offered,
            latency=latency,
            rate_limit=rate_limit,
            boot_seconds=boot_seconds,
            transition_seconds=transition_seconds,
        )
        self.core = Core(settings, token=token)
        self.app = build_app(self.core)
        self._host = host
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- lifecycle --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What a client uses as the API base URL (Fly's is https://api.machines.dev/v1)."""
        return f"{self.root_url}/v1"

    @property
    def control_url(self) -> str:
        return f"{self.root_url}/__emulator"

    @property
    def root_url(self) -> str:
        if not self.port:
            raise EmulatorError("the emulator is not running; call start() or use it as a context manager")
        return f"http://{self._host}:{self.port}"

    def start(self) -> FlyEmulator:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self._host, self._requested_port))
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"fly-emulator-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise EmulatorError("the emulator's HTTP server did not start")
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

    def __enter__(self) -> FlyEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- switches ---------------------------------------------------------------------------------

    def inject_fault(
        self,
        method: str = "*",
        path: str = r"/v1/.*",
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
        *,
        message: str | None = None,
        after: bool = False,
        seconds: float | None = None,
    ) -> None:
        """Answer `status` to the next `times` requests whose method matches (or "*") and whose URL path
        fully matches the regex `path`; with `seconds`, to every such request for that long instead.
        `after=True` lets the request take effect first."""
        self.core.faults.add(
            method=method,
            path=path,
            status=status,
            times=times,
            retry_after=retry_after,
            message=message,
            after=after,
            seconds=seconds,
        )

    def clear_faults(self) -> None:
        self.core.faults.clear()

    def _settings(self, **changes: Any) -> None:
        try:
            introspect.apply_settings(self.core, changes)
        except FlyError as exc:
            raise _unwrap(exc) from None

    def set_gpus_offered(self, offered: bool) -> None:
        self._settings(gpus_offered=offered)

    def set_latency(self, seconds: float) -> None:
        self._settings(latency=seconds)

    def set_rate_limit(self, enabled: bool) -> None:
        self._settings(rate_limit=enabled)
        self.core.limiter.reset()

    def set_timing(
        self,
        *,
        boot_seconds: float | None = None,
        transition_seconds: float | None = None,
        volume_detach_seconds: float | None = None,
    ) -> None:
        changes = {
            "boot_seconds": boot_seconds,
            "transition_seconds": transition_seconds,
            "volume_detach_seconds": volume_detach_seconds,
        }
        self._settings(**{k: v for k, v in changes.items() if v is not None})

    def reserve_app_name(self, name: str) -> None:
        """Mark `name` as held by an app in another organisation: creating it is 422 name_taken."""
        try:
            introspect.reserve_app_name(self.core, name)
        except FlyError as exc:
            raise _unwrap(exc) from None

    def add_org(self, slug: str, name: str | None = None) -> None:
        try:
            introspect.add_org(self.core, slug, name)
        except FlyError as exc:
            raise _unwrap(exc) from None

    def fail_image(self, image: str) -> None:
        """Machines running exactly this image crash on boot and end up `failed`."""
        try:
            introspect.add_failing_image(self.core, image)
        except FlyError as exc:
            raise _unwrap(exc) from None

    # --- views ------------------------------------------------------------------------------------

    def requests(self) -> list[RequestRecord]:
        return self.core.log.all()

    def clear_requests(self) -> None:
        self.core.log.clear()

    def state(self) -> dict[str, Any]:
        return introspect.state_snapshot(self.core)

    def billable(self) -> list[str]:
        return introspect.billable(self.core)

    def volume_data(self, app: str, volume_id: str) -> dict[str, Any]:
        try:
            return introspect.volume_data(self.core, app, volume_id)
        except FlyError as exc:
            raise _unwrap(exc) from None

    def set_volume_data(self, app: str, volume_id: str, data: dict[str, Any]) -> None:
        try:
            introspect.set_volume_data(self.core, app, volume_id, data)
        except FlyError as exc:
            raise _unwrap(exc) from None

    def reset(self) -> None:
        """Forget every app, machine, volume, IP, secret, fault and logged request; keep the switches."""
        self.core.reset()
