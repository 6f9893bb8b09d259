"""`python -m hub_emulator --port 4290 [--user alice --token-file PATH] [--build-seconds 2] ...`: the Hub stand-in
as a foreground process. uvicorn owns the main thread, so SIGINT and SIGTERM shut it down cleanly.

Users and tokens can be set on the command line (`--user NAME[:org1,org2]`, `--token USER:ROLE`, the token
values written to `--token-file`, never printed) or later through the control surface (POST /__hub/users,
POST /__hub/tokens).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hub_emulator import fixtures, introspect
from hub_emulator.asgi import UVICORN_OPTIONS, build_app
from hub_emulator.control import PREFIX
from hub_emulator.core import Core
from hub_emulator.state import Settings
from standin.cli import add_listen_arguments, serve_until_signalled
from standin.errors import ServiceError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hub_emulator", description="Hugging Face Hub stand-in")
    add_listen_arguments(parser, port=4290)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--bandwidth", type=float, default=None, help="bytes/s per download connection")
    parser.add_argument("--build-seconds", type=float, default=2.0)
    parser.add_argument("--start-seconds", type=float, default=1.0)
    parser.add_argument(
        "--sleep-time-scale", type=float, default=1.0, help="real seconds per sleep-time second"
    )
    parser.add_argument("--cdn-host", default="localhost", help="host name LFS downloads are redirected to")
    parser.add_argument("--user", action="append", default=[], metavar="NAME[:ORG,...]", help="repeatable")
    parser.add_argument("--token", action="append", default=[], metavar="USER:ROLE", help="repeatable")
    parser.add_argument("--token-file", type=Path, help="where the generated tokens are written (one a line)")
    args = parser.parse_args(argv)
    if min(args.latency, args.build_seconds, args.start_seconds) < 0:
        parser.error("latency and timings must not be negative")
    if args.token and args.token_file is None:
        parser.error("--token needs --token-file: token values are never printed")
    return args


def _seed(core: Core, args: argparse.Namespace) -> list[str]:
    for spec in args.user:
        name, _, orgs = spec.partition(":")
        fixtures.add_user(core, name, orgs=[o for o in orgs.split(",") if o])
    tokens = []
    for spec in args.token:
        user, _, role = spec.partition(":")
        tokens.append(fixtures.new_token(core, user, role or "write", label=f"cli {role or 'write'} token"))
    return tokens


def _write_private(path: Path, text: str) -> None:
    """Create (or truncate) the file readable by its owner only, before anything is written to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    core = Core(Settings())
    try:
        introspect.apply_settings(
            core,
            {
                "latency": args.latency,
                "bandwidth": args.bandwidth,
                "build_seconds": args.build_seconds,
                "start_seconds": args.start_seconds,
                "sleep_time_scale": args.sleep_time_scale,
                "cdn_host": args.cdn_host,
            },
        )
        tokens = _seed(core, args)
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.token_file is not None:
        _write_private(args.token_file, "".join(f"{t}\n" for t in tokens))
    root = f"http://{args.host}:{args.port}"
    print(
        "Hugging Face Hub stand-in -- an emulation for tests, not the Hub; nothing here is deployed or billed."
    )
    print(f"endpoint:    {root}   (HfApi(endpoint=...) or HF_ENDPOINT)")
    print(f"control URL: {root}{PREFIX}")
    print(
        f"users: {', '.join(sorted(core.store.users)) or 'none yet'}; tokens issued: {len(tokens)}",
        flush=True,
    )
    serve_until_signalled(build_app(core), host=args.host, port=args.port, **UVICORN_OPTIONS)
    print("Hub stand-in stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
