"""Injected faults: for the next N requests matching a method and a path pattern, answer an error status, or
let the request take effect and then answer the error (`after`), or cut the response body after some bytes
and drop the connection (`cut_after`: a download interrupted mid-file, which `huggingface_hub` resumes with a
Range request).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from hub_emulator.errors import REASONS, HubError


@dataclass
class Fault:
    method: str  # "*" matches any method
    path: str  # regular expression, matched against the whole URL path
    status: int
    remaining: int
    retry_after: float | None = None
    message: str | None = None
    after: bool = False
    cut_after: int | None = None  # bytes of body sent before the connection drops

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and re.fullmatch(self.path, path) is not None

    def error(self) -> HubError:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = _header_seconds(self.retry_after)
        return HubError(self.status, self.message or REASONS.get(self.status, "Error"), headers=headers)

    def snapshot(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "message": self.message,
            "after": self.after,
            "cut_after": self.cut_after,
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
        method: str = "*",
        path: str,
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
        after: bool = False,
        cut_after: int | None = None,
    ) -> Fault:
        if cut_after is None and not 400 <= status <= 599:
            raise ValueError(f"fault status must be an HTTP error status (400-599), got {status}")
        if cut_after is not None and (cut_after < 0 or after):
            raise ValueError("cut_after must be a byte count >= 0 and cannot be combined with after")
        if times < 1:
            raise ValueError(f"fault times must be at least 1, got {times}")
        if retry_after is not None and retry_after < 0:
            raise ValueError("fault retry_after must not be negative")
        try:
            re.compile(path)
        except re.error as exc:
            raise ValueError(f"fault path is not a valid regular expression: {exc}") from None
        fault = Fault(
            method.upper() if method else "*", path, status, times, retry_after, message, after, cut_after
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, consuming one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
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
