"""What the dynamic provider process does for itself once our providers are loaded into it.

- Errors we explain (`ProviderError`) are reported by their message alone, without a Python traceback.
- The process exits soon after the engine that started it is gone (a `pulumi` killed with SIGKILL or a closed
  terminal): Pulumi's Go plugins watch the engine the same way; the Python host does not, and would otherwise
  keep running, and keep calling cloud APIs, with nobody to report to.

Nothing happens outside that process: tests and the program import the same modules without side effects.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import traceback
from collections.abc import Callable

from .errors import ProviderError
from .progress import engine_address

PROVIDER_MAIN = "pulumi.dynamic.__main__"
CHECK_INTERVAL_S = 1.0
# Consecutive failed checks before the engine counts as gone: a busy engine may miss one.
MISSES_ALLOWED = 3

_attached = False
_lock = threading.Lock()


def in_provider_process() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == PROVIDER_MAIN


def attach() -> None:
    """Install both behaviours, once, when running inside the dynamic provider process."""
    global _attached
    with _lock:
        if _attached or not in_provider_process():
            return
        _attached = True
    report_without_traceback()
    address = engine_address()
    if address is not None:
        threading.Thread(target=watch_engine, args=(address,), name="engine-watch", daemon=True).start()


def report_without_traceback() -> None:
    original = traceback.format_exc

    def format_exc(limit: int | None = None, chain: bool = True) -> str:
        current = sys.exc_info()[1]
        if isinstance(current, ProviderError):
            return str(current)
        return original(limit, chain)

    traceback.format_exc = format_exc


def engine_alive(address: str, timeout_s: float = 1.0) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False


def watch_engine(
    address: str,
    *,
    alive: Callable[[str], bool] = engine_alive,
    interval_s: float = CHECK_INTERVAL_S,
    exit_process: Callable[[int], None] = os._exit,
    stop: threading.Event | None = None,
) -> None:
    """Poll the engine; once it has been unreachable MISSES_ALLOWED times in a row, end the process."""
    stop = stop or threading.Event()
    misses = 0
    while not stop.wait(interval_s):
        misses = 0 if alive(address) else misses + 1
        if misses >= MISSES_ALLOWED:
            # stderr was a pipe to the engine that is gone: writing may fail, exiting must not.
            with contextlib.suppress(OSError):
                print("provider: the Pulumi engine is gone; exiting", file=sys.stderr, flush=True)
            exit_process(1)
            return
