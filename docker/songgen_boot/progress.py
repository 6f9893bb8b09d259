"""Progress of a download (or a copy) on stdout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .console import human, log


class Progress:
    """Throttled progress lines: bytes, percent, rate, for the file and for the whole fill (thread-safe)."""

    def __init__(
        self,
        total: int,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        verb: str = "downloading",
    ) -> None:
        self.total = max(total, 0)
        self.verb = verb
        self.done = 0
        self.interval = interval
        self._clock = clock
        self._start = clock()
        self._last = self._start
        self._lock = threading.Lock()

    def advance(self, label: str, file_done: int, file_total: int, nbytes: int, force: bool = False) -> None:
        with self._lock:
            self.done += nbytes
            now = self._clock()
            if not force and now - self._last < self.interval:
                return
            self._last = now
            done = self.done
        elapsed = max(now - self._start, 1e-6)
        rate = done / elapsed
        pct = 100.0 * file_done / file_total if file_total else 100.0
        overall = f"{100.0 * done / self.total:.1f}%" if self.total else "-"
        eta = f", about {int(max(self.total - done, 0) / rate)} s left" if rate > 0 and self.total else ""
        log(
            f"{self.verb} {label}: {human(file_done)} / {human(file_total)} ({pct:.1f}%) "
            f"at {human(rate)}/s; all: {human(done)} / {human(self.total)} ({overall}){eta}"
        )
