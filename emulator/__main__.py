"""`python -m emulator --port 4280 [--gpus] [--latency 0.05] [--token T]`: the emulator as a foreground
process. uvicorn owns the main thread, so SIGINT and SIGTERM shut it down cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from types import FrameType

import uvicorn

from emulator.asgi import build_app
from emulator.core import Core
from emulator.state import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Fly Machines API emulator")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=4280)
    parser.add_argument("--gpus", action="store_true", help="offer GPU machines (Fly stopped on 2026-08-01)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
    parser.add_argument("--rate-limit", action="store_true", help="enforce Fly's documented rate limits")
    parser.add_argument("--boot-seconds", type=float, default=0.1)
    parser.add_argument("--transition-seconds", type=float, default=0.05)
    parser.add_argument(
        "--token",
        default=os.environ.get("FLY_EMULATOR_TOKEN"),
        help="accept only this token (default: $FLY_EMULATOR_TOKEN, else any non-empty token)",
    )
    parser.add_argument("--org", action="append", default=[], help="extra organisation slug (repeatable)")
    args = parser.parse_args(argv)
    if args.latency < 0 or args.boot_seconds < 0 or args.transition_seconds < 0:
        parser.error("latency and timings must not be negative")
    return args


class _StopRequestedError(Exception):
    """Raised by our signal handler: uvicorn shuts down gracefully, then re-raises the signal it caught,
    which lands here instead of killing the process, so the exit is clean (status 0)."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequestedError(signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings(
        gpus_offered=args.gpus,
        latency=args.latency,
        rate_limit=args.rate_limit,
        boot_seconds=args.boot_seconds,
        transition_seconds=args.transition_seconds,
    )
    core = Core(settings, token=args.token or None)
    for slug in args.org:
        core.store.orgs[slug] = slug
    root = f"http://{args.host}:{args.port}"
    print(
        "Fly Machines API emulator -- an emulation for tests, not Fly.io; nothing here is deployed or billed."
    )
    print(f"base URL:    {root}/v1")
    print(f"control URL: {root}/__emulator")
    print(
        f"GPUs offered: {'yes' if args.gpus else 'no'}; token: {'required' if args.token else 'any'}",
        flush=True,
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    with contextlib.suppress(_StopRequestedError):
        uvicorn.run(build_app(core), host=args.host, port=args.port, log_level="warning", access_log=False)
    print("emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
