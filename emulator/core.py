"""The emulator's shared core: state, switches, faults, rate limits and the request log, behind one lock."""

from __future__ import annotations

import hmac
import time

from fastapi import Request

from emulator import lifecycle
from emulator.errors import FlyError
from emulator.ratelimit import RateLimiter
from emulator.reqlog import MAX_RECORDS, RequestRecord
from emulator.state import App, Settings, Store
from standin.core import StandInCore, core_of, token_digest


class Core(StandInCore[Settings, Store, RequestRecord]):
    def __init__(self, settings: Settings | None = None, token: str | None = None) -> None:
        super().__init__(settings or Settings(), Store, max_records=MAX_RECORDS)
        self.limiter = RateLimiter()
        self._token_digest = token_digest(token) if token else None

    # --- auth -----------------------------------------------------------------------------------

    @property
    def token_required(self) -> bool:
        return self._token_digest is not None

    def token_accepted(self, presented: str) -> bool:
        if self._token_digest is None:
            return True
        return hmac.compare_digest(token_digest(presented), self._token_digest)

    # --- helpers for the routes -----------------------------------------------------------------

    def timing(self) -> lifecycle.Timing:
        return lifecycle.Timing(boot=self.settings.boot_seconds, transition=self.settings.transition_seconds)

    def app(self, name: str) -> App:
        """The app, or the error Fly gives: 404 when nobody has it, 403 "unauthorized" when another org does.

        fly-go's AppNameAvailable treats an "unauthorized" answer to GET /apps/{name} as "exists, in an
        organisation we cannot access"; Fly answers it with 403 (fly-go #282, correcting #281's 401).
        """
        found = self.store.apps.get(name)
        if found is not None:
            return found
        if name in self.store.reserved_names:
            raise FlyError(403, "unauthorized")
        raise FlyError(404, "app not found")

    def advance_all(self) -> None:
        now = time.monotonic()
        for machine in self.store.machines.values():
            lifecycle.advance(machine, now)

    def reset(self) -> None:
        """Forget everything the API created; keep the switches (gpus, latency, timing, token)."""
        with self.lock:
            super().reset()
            self.limiter.reset()


def get_core(request: Request) -> Core:
    return core_of(request, Core)
