"""`python -m tests.standin.toy_cli --port N`: the toy stand-in as a foreground process, as a stand-in's CLI
runs it."""

from __future__ import annotations

import argparse
import sys

from standin.cli import add_listen_arguments, serve_until_signalled
from tests.standin.toy import ToyCore, build_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="toy")
    add_listen_arguments(parser, port=4999)
    args = parser.parse_args(argv)
    print(f"toy listening on {args.host}:{args.port}", flush=True)
    serve_until_signalled(build_app(ToyCore()), host=args.host, port=args.port)
    print("toy stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
