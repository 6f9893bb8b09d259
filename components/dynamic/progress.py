"""Progress lines for a person watching `pulumi up`.

Inside the dynamic provider plugin the engine's address is the process's first positional argument, so lines go
to the engine's Log service (shown live); anywhere else they go to stderr. Never raises: a lost status line must
not fail a deploy. Callers pass names, states and durations only, never config values or secrets.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
from typing import Any

_ADDRESS = re.compile(r"^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$")
_LOG_TIMEOUT_S = 2.0

_lock = threading.Lock()
_engine: Any = None
_engine_resolved = False


def engine_address(argv: list[str] | None = None) -> str | None:
    """The engine's host:port from the plugin's arguments (flags such as `--tracing <url>` may come first)."""
    args = sys.argv[1:] if argv is None else argv
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
            continue
        if arg == "--tracing":
            skip_next = True
            continue
        if arg.startswith("-"):
            continue
        return arg if _ADDRESS.match(arg) else None
    return None


def info(message: str) -> None:
    _send(message, severity="INFO", ephemeral=False)


def status(message: str) -> None:
    """A passing status line ("waiting for ..."): ephemeral in the engine's display."""
    _send(message, severity="INFO", ephemeral=True)


def warn(message: str) -> None:
    _send(message, severity="WARNING", ephemeral=False)


def reset() -> None:
    """Forget the engine connection (tests, or a changed argv)."""
    global _engine, _engine_resolved
    with _lock:
        if _engine is not None:
            _close_quietly(_engine[0])
        _engine, _engine_resolved = None, False


def _send(message: str, *, severity: str, ephemeral: bool) -> None:
    engine = _connect()
    if engine is not None:
        try:
            from pulumi.runtime.proto import engine_pb2

            request = engine_pb2.LogRequest(
                severity=engine_pb2.LogSeverity.Value(severity), message=message, ephemeral=ephemeral
            )
            engine[1].Log(request, timeout=_LOG_TIMEOUT_S)
            return
        except Exception:  # noqa: S110 - fall back to stderr below
            pass
    try:
        prefix = "warning: " if severity == "WARNING" else ""
        print(f"{prefix}{message}", file=sys.stderr, flush=True)
    except Exception:  # noqa: S110 - nowhere left to report it
        pass


def _connect() -> Any:
    global _engine, _engine_resolved
    with _lock:
        if _engine_resolved:
            return _engine
        _engine_resolved = True
        address = engine_address()
        if address is None:
            return None
        try:
            import grpc
            from pulumi.runtime.proto import engine_pb2_grpc

            channel = grpc.insecure_channel(address)
            _engine = (channel, engine_pb2_grpc.EngineStub(channel))
        except Exception:
            _engine = None
        return _engine


def _close_quietly(channel: Any) -> None:
    with contextlib.suppress(Exception):
        channel.close()
