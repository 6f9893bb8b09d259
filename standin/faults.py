"""Injected faults, the same for every stand-in. A fault matches requests by method ("*" for any) and by a
regular expression over the whole URL path, and then, for each matching request:

- answers `status` (an HTTP error, 400-599) in the service's error shape, with `message` or the service's
  words for that status, and `Retry-After: retry_after` when given; the request has no effect;
- with `after=True`, lets the request take effect first and then answers the error instead of the route's
  answer: a response lost on the way back, which is what makes blind retries of non-idempotent calls
  dangerous;
- with `cut_after=N`, lets the route answer but sends only the first N bytes of its body and drops the
  connection (a download interrupted mid-file); `status` is not used and `after` cannot be combined with it.

A fault fires for the next `times` matching requests, or, with `seconds`, for every matching request until
that many seconds have passed (a burst of 429s, an outage), whatever `times` says. The first armed fault that
matches a request is the one that fires.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict


class FaultOptions(TypedDict, total=False):
    """What `inject_fault` takes besides method, path, status, times and retry_after (keyword-only)."""

    message: str | None
    after: bool
    seconds: float | None
    cut_after: int | None


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
    cut_after: int | None = None  # bytes of body sent before the connection drops

    def expired(self, now: float) -> bool:
        return self.until is not None and now >= self.until

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and re.fullmatch(self.path, path) is not None

    def answer_headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        seconds = self.retry_after
        return {"Retry-After": str(int(seconds)) if float(seconds).is_integer() else str(seconds)}

    def snapshot(self, now: float) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "message": self.message,
            "after": self.after,
            "seconds_left": None if self.until is None else max(0.0, self.until - now),
            "cut_after": self.cut_after,
        }


class FaultBook:
    """The armed faults of one stand-in; safe to use from the server's thread and a test's at once."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        *,
        method: str = "*",
        path: str,
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
        after: bool = False,
        seconds: float | None = None,
        cut_after: int | None = None,
    ) -> Fault:
        """Arm a fault (see the module's description); a ValueError says what is wrong with it."""
        if cut_after is None and not 400 <= status <= 599:
            raise ValueError(f"fault status must be an HTTP error status (400-599), got {status}")
        if cut_after is not None and (cut_after < 0 or after):
            raise ValueError("cut_after must be a byte count >= 0 and cannot be combined with after")
        if times < 1:
            raise ValueError(f"fault times must be at least 1, got {times}")
        if seconds is not None and seconds <= 0:
            raise ValueError("fault seconds must be positive")
        if retry_after is not None and retry_after < 0:
            raise ValueError("fault retry_after must not be negative")
        try:
            re.compile(path)  # fail now, not on the first request
        except re.error as exc:
            raise ValueError(f"fault path is not a valid regular expression: {exc}") from None
        until = None if seconds is None else self._clock() + seconds
        fault = Fault(
            method.upper() if method else "*",
            path,
            status,
            times,
            retry_after,
            message,
            after,
            until,
            cut_after,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, consuming one of its uses."""
        now = self._clock()
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

    def describe(self, fault: Fault) -> dict[str, Any]:
        return fault.snapshot(self._clock())

    def snapshot(self) -> list[dict[str, Any]]:
        """The armed faults, expired timed ones left out."""
        now = self._clock()
        with self._lock:
            return [f.snapshot(now) for f in self._faults if not f.expired(now)]
