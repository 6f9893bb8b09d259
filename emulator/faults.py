"""Injected faults: answer status S for the next N requests matching a method and a path pattern, or for
every matching request during the next T seconds (a burst of 429s, an outage).

`after=True` lets the request take effect and then replaces the answer: the case of a response lost on
the way back, which is what makes client retries of non-idempotent calls dangerous.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from emulator.errors import REASONS, FlyError


@dataclass
class Fault:
    method: str  # "*" matches any method
    path: str  # regular expression, matched against the whole URL path
    status: int
    remaining: int
    retry_after: float | None = None
    message: str | None = None
    after: bool = False
    until: float | None = None  # monotonic deadline of a timed fault, which ignores `remaining`

    def expired(self, now: float) -> bool:
        return self.until is not None and now >= self.until

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method.upper()) and re.fullmatch(
            self.path, path
        ) is not None

    def error(self) -> FlyError:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = _header_seconds(self.retry_after)
        return FlyError(self.status, self.message or REASONS.get(self.status, "error"), headers=headers)

    def snapshot(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "message": self.message,
            "after": self.after,
            "seconds_left": None if self.until is None else max(0.0, self.until - time.monotonic()),
        }


def _header_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        *,
        method: str,
        path: str,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
        after: bool = False,
        seconds: float | None = None,
    ) -> Fault:
        if not 400 <= status <= 599:
            raise ValueError(f"fault status must be an HTTP error status (400-599), got {status}")
        if times < 1:
            raise ValueError(f"fault times must be at least 1, got {times}")
        if seconds is not None and seconds <= 0:
            raise ValueError("fault seconds must be positive")
        if retry_after is not None and retry_after < 0:
            raise ValueError("fault retry_after must not be negative")
        try:
            re.compile(path)  # fail early on a bad pattern
        except re.error as exc:
            raise ValueError(f"fault path is not a valid regular expression: {exc}") from None
        until = None if seconds is None else time.monotonic() + seconds
        fault = Fault(
            method.upper() if method else "*", path, status, times, retry_after, message, after, until
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, consuming one of its uses."""
        now = time.monotonic()
        with self._lock:
            self._faults = [f for f in self._faults if not f.expired(now)]
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.until is None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.snapshot() for f in self._faults]
