"""The stand-in's shared core: state, switches, faults and the request log, behind one lock."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

from fastapi import Request

from hub_emulator import lifecycle
from hub_emulator.faults import FaultBook
from hub_emulator.reqlog import RequestLog
from hub_emulator.state import Repo, Settings, Store, TokenGrant


class Core:
    def __init__(self, settings: Settings | None = None) -> None:
        self.lock = threading.RLock()
        self.settings = settings or Settings()
        self.store = Store()
        self.faults = FaultBook()
        self.log = RequestLog()
        # Per-instance keys: secret digests show that a value changed without being a dictionary-attackable
        # hash of it, and CDN links are signed so they cannot be forged or reused after they expire.
        self._digest_key = secrets.token_bytes(32)
        self._cdn_key = secrets.token_bytes(32)

    # --- tokens (only digests are kept, so no snapshot or dump can reveal a token) ----------------

    def grant_for(self, token: str) -> TokenGrant | None:
        return self.store.tokens.get(token_digest(token))

    def add_token(self, token: str, grant: TokenGrant) -> None:
        self.store.tokens[token_digest(token)] = grant

    # --- keyed digests and signatures ----------------------------------------------------------------

    def secret_digest(self, value: str) -> str:
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()[:16]

    def cdn_signature(self, *parts: str) -> str:
        return hmac.new(self._cdn_key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()

    # --- time ----------------------------------------------------------------------------------------

    def timing(self) -> lifecycle.Timing:
        s = self.settings
        return lifecycle.Timing(build=s.build_seconds, start=s.start_seconds, sleep_scale=s.sleep_time_scale)

    def advance_all(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for repo in self.store.repos.values():
            self.advance(repo, now)

    def advance(self, repo: Repo, now: float | None = None) -> None:
        if repo.space is not None:
            lifecycle.advance(repo.space, time.monotonic() if now is None else now, self.timing())

    def reset(self) -> None:
        """Forget users, tokens, repos, buckets, failure plans, faults and logged requests; keep the switches."""
        with self.lock:
            self.store = Store()
            self.faults.clear()
            self.log.clear()


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def get_core(request: Request) -> Core:
    core = request.app.state.core
    assert isinstance(core, Core)
    return core
