"""`python -m emulator --port 4280 [--gpus] [--latency 0.05] [--token T]`: the emulator as a foreground
process. uvicorn owns the main thread, so SIGINT and SIGTERM shut it down cleanly.
"""

from __future__ import annotations

import argparse
import os
import sys

from emulator.asgi import build_app
from emulator.core import Core
from emulator.state import Settings
from standin.cli import add_listen_arguments, serve_until_signalled


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Fly Machines API emulator")
    add_listen_arguments(parser, port=4280)
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
    serve_until_signalled(build_app(core), host=args.host, port=args.port)
    print("emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
