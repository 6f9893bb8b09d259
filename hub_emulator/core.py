"""The stand-in's core: state, switches, faults and the request log behind one lock (standin.core), with
the Hub's tokens, CDN signatures and Space clocks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from fastapi import Request

from hub_emulator import lifecycle
from hub_emulator.reqlog import MAX_RECORDS, RequestRecord
from hub_emulator.state import Repo, Settings, Store, TokenGrant
from standin.core import StandInCore, core_of, token_digest


class Core(StandInCore[Settings, Store, RequestRecord]):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings or Settings(), Store, max_records=MAX_RECORDS)
        # Per-instance key: CDN links are signed so they cannot be forged or reused after they expire.
        self._cdn_key = secrets.token_bytes(32)

    # --- tokens (only digests are kept, so no snapshot or dump can reveal a token) ----------------

    def grant_for(self, token: str) -> TokenGrant | None:
        return self.store.tokens.get(token_digest(token))

    def add_token(self, token: str, grant: TokenGrant) -> None:
        self.store.tokens[token_digest(token)] = grant

    # --- signatures ----------------------------------------------------------------------------------

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


def get_core(request: Request) -> Core:
    return core_of(request, Core)
