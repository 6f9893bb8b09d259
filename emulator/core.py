"""The emulator's shared core: state, switches, faults, rate limits and the request log, behind one lock."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

from fastapi import Request

from emulator import lifecycle
from emulator.errors import FlyError
from emulator.faults import FaultBook
from emulator.ratelimit import RateLimiter
from emulator.reqlog import RequestLog
from emulator.state import App, Settings, Store


class Core:
    def __init__(self, settings: Settings | None = None, token: str | None = None) -> None:
        self.lock = threading.RLock()
        self.settings = settings or Settings()
        self.store = Store()
        self.faults = FaultBook()
        self.limiter = RateLimiter()
        self.log = RequestLog()
        # Only a digest of the accepted token is kept, so no snapshot or dump can reveal it.
        self._token_digest = _sha256(token) if token else None
        # Secret digests are keyed per emulator instance: they show that a value changed without being
        # a dictionary-attackable hash of it.
        self._digest_key = secrets.token_bytes(32)

    # --- auth -----------------------------------------------------------------------------------

    @property
    def token_required(self) -> bool:
        return self._token_digest is not None

    def token_accepted(self, presented: str) -> bool:
        if self._token_digest is None:
            return True
        return hmac.compare_digest(_sha256(presented), self._token_digest)

    # --- helpers for the routes -----------------------------------------------------------------

    def timing(self) -> lifecycle.Timing:
        return lifecycle.Timing(boot=self.settings.boot_seconds, transition=self.settings.transition_seconds)

    def secret_digest(self, value: str) -> str:
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()[:16]

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
            self.store = Store()
            self.faults.clear()
            self.limiter.reset()
            self.log.clear()


def _sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def get_core(request: Request) -> Core:
    core = request.app.state.core
    assert isinstance(core, Core)
    return core
