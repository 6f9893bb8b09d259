"""The core every stand-in keeps: its settings, its store, the injected faults and the request log, behind
one lock, plus keyed digests for values it must never keep in the clear.

Request handlers run on the server's event-loop thread while tests read and switch things from their own
thread: everything that touches the store holds `lock`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from starlette.requests import Request

from standin.faults import FaultBook
from standin.reqlog import RequestLog


class StandInSettings(Protocol):
    """What the shared pipeline and control surface read from a stand-in's settings."""

    @property
    def latency(self) -> float: ...  # seconds added to every request but the control surface's

    def snapshot(self) -> dict[str, Any]: ...


class Recorded(Protocol):
    """A request record as the control surface lists it."""

    def as_dict(self) -> dict[str, Any]: ...


SettingsT = TypeVar("SettingsT", bound=StandInSettings)
StoreT = TypeVar("StoreT")
RecordT = TypeVar("RecordT", bound=Recorded)
CoreT = TypeVar("CoreT", bound="StandInCore[Any, Any, Any]")


class StandInCore(Generic[SettingsT, StoreT, RecordT]):
    def __init__(self, settings: SettingsT, new_store: Callable[[], StoreT], *, max_records: int) -> None:
        self.lock = threading.RLock()
        self.settings = settings
        self._new_store = new_store
        self.store = new_store()
        self.faults = FaultBook()
        self.log: RequestLog[RecordT] = RequestLog(max_records)
        # Keyed per instance: a digest shows that a secret changed without being a dictionary-attackable
        # hash of it.
        self._digest_key = secrets.token_bytes(32)

    def secret_digest(self, value: str) -> str:
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()[:16]

    def reset(self) -> None:
        """Forget everything the API created, every injected fault and logged request; keep the settings."""
        with self.lock:
            self.store = self._new_store()
            self.faults.clear()
            self.log.clear()


def token_digest(token: str) -> bytes:
    """What a stand-in keeps of a token, so no snapshot or dump can reveal it."""
    return hashlib.sha256(token.encode()).digest()


def core_of(request: Request, kind: type[CoreT]) -> CoreT:
    """The core the app serving this request was built around."""
    core = request.app.state.core
    assert isinstance(core, kind)
    return core
