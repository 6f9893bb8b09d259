"""What a stand-in's `python -m` entry point shares: where it listens, and serving in the foreground until
SIGINT or SIGTERM with a clean exit (status 0) rather than a traceback."""

from __future__ import annotations

import argparse
import contextlib
import signal
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp


def add_listen_arguments(parser: argparse.ArgumentParser, *, port: int) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=port)


class _StopRequestedError(Exception):
    """Raised by our signal handler: uvicorn shuts down gracefully, then re-raises the signal it caught,
    which lands here instead of killing the process, so the exit is clean."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequestedError(signum)


def serve_until_signalled(app: ASGIApp, *, host: str, port: int, **uvicorn_options: Any) -> None:
    """Serve `app` on the main thread; returns once SIGINT or SIGTERM has shut uvicorn down."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    with contextlib.suppress(_StopRequestedError):
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, **uvicorn_options)
