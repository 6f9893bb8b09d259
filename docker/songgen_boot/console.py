"""Output for the operator: log lines on stdout, and byte counts in the units Fly and Hugging Face use."""

from __future__ import annotations

import sys
import threading

LOG_PREFIX = "[songgen]"
GB = 1000**3

# The Studio's output is relayed from another thread; whole lines only, never interleaved.
_LOCK = threading.Lock()


def log(message: str) -> None:
    with _LOCK:
        sys.stdout.write(f"{LOG_PREFIX} {message}\n")
        sys.stdout.flush()


def relay(line: str) -> None:
    """Write a line of the Studio's own output, unprefixed."""
    with _LOCK:
        sys.stdout.write(line if line.endswith("\n") else line + "\n")
        sys.stdout.flush()


def human(n: float) -> str:
    """Bytes in decimal units, as Hugging Face and Fly volumes count them."""
    for unit, size in (("GB", GB), ("MB", 1000**2), ("kB", 1000)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"
