"""FlyEmulator: the emulator as a real HTTP server on 127.0.0.1, run in a background thread.

    with FlyEmulator(gpus_offered=True) as emu:
        client = MyClient(base_url=emu.base_url, token="anything")

The Python methods act on the same core the HTTP control surface does, so a test can mix both.
"""

from __future__ import annotations

from typing import Any, Unpack

from emulator import introspect
from emulator.asgi import build_app
from emulator.core import Core
from emulator.reqlog import RequestRecord
from emulator.state import Settings
from standin.errors import ServiceError
from standin.faults import FaultOptions
from standin.server import StandInServer


class EmulatorError(RuntimeError):
    """A control call the emulator refused (bad setting, unknown volume, ...)."""


def _unwrap(exc: ServiceError) -> EmulatorError:
    return EmulatorError(f"{exc.status}: {exc.message}")


class FlyEmulator(StandInServer[Core, RequestRecord]):
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
        core = Core(settings, token=token)
        super().__init__(
            core,
            build_app(core),
            host=host,
            port=port,
            thread_name="fly-emulator",
            called="the emulator",
            error=EmulatorError,
        )

    # --- addresses (start, stop and the context manager come from standin.server) ---------------

    @property
    def base_url(self) -> str:
        """What a client uses as the API base URL (Fly's is https://api.machines.dev/v1)."""
        return f"{self.root_url}/v1"

    @property
    def control_url(self) -> str:
        return f"{self.root_url}/__emulator"

    # --- switches ---------------------------------------------------------------------------------

    def inject_fault(
        self,
        method: str = "*",
        path: str = r"/v1/.*",
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
        **options: Unpack[FaultOptions],
    ) -> None:
        """Answer `status` to the next `times` requests whose method matches (or "*") and whose URL path
        fully matches the regex `path`; `seconds`, `after`, `cut_after` and `message` as standin.faults
        describes them. A bad fault is a ValueError."""
        self.core.faults.add(
            method=method, path=path, status=status, times=times, retry_after=retry_after, **options
        )

    def _settings(self, **changes: Any) -> None:
        try:
            introspect.apply_settings(self.core, changes)
        except ServiceError as exc:
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
        except ServiceError as exc:
            raise _unwrap(exc) from None

    def add_org(self, slug: str, name: str | None = None) -> None:
        try:
            introspect.add_org(self.core, slug, name)
        except ServiceError as exc:
            raise _unwrap(exc) from None

    def fail_image(self, image: str) -> None:
        """Machines running exactly this image crash on boot and end up `failed`."""
        try:
            introspect.add_failing_image(self.core, image)
        except ServiceError as exc:
            raise _unwrap(exc) from None

    # --- views ------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return introspect.state_snapshot(self.core)

    def billable(self) -> list[str]:
        return introspect.billable(self.core)

    def volume_data(self, app: str, volume_id: str) -> dict[str, Any]:
        try:
            return introspect.volume_data(self.core, app, volume_id)
        except ServiceError as exc:
            raise _unwrap(exc) from None

    def set_volume_data(self, app: str, volume_id: str, data: dict[str, Any]) -> None:
        try:
            introspect.set_volume_data(self.core, app, volume_id, data)
        except ServiceError as exc:
            raise _unwrap(exc) from None
