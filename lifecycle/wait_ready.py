"""Wait until a deployed Studio answers, with progress: `make wait STACK=dev`.

    python -m lifecycle.wait_ready (--stack dev | --url https://...) [--timeout 3600] [--interval 10]

After `pulumi up` the machine exists, but a first boot fills about 26 GB of weights (the runtime
bundle and the default model) before the Studio starts and `/api/health` answers. This polls
`<url>/api/health` (the stack's `url` output) until it answers `{"status": "ok"}`, prints a line
whenever the answer changes and at least once a minute, and gives up after `--timeout` seconds.
Exit status: 0 ready, 1 not ready in time, 2 no URL to wait for.

A private Hugging Face Space answers only with a token: `HF_TOKEN` from the environment is sent
as a bearer token to `*.hf.space` addresses, and to no other host.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

HEALTH_PATH = "/api/health"
PROGRESS_EVERY_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 10.0
HF_SPACE_SUFFIX = ".hf.space"


def say(message: str) -> None:
    print(f"wait: {message}", flush=True)


class NoUrlError(Exception):
    """The stack has no `url` output to wait for, or its outputs could not be read."""


def stack_outputs(stack: str, cwd: Path) -> dict[str, object]:
    """The stack's outputs, read with the Pulumi CLI in the project directory `cwd`."""
    result = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--stack", stack],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise NoUrlError(f"could not read the outputs of stack {stack!r}: {result.stderr.strip()}")
    outputs: dict[str, object] = json.loads(result.stdout or "{}")
    if not isinstance(outputs.get("url"), str):
        raise NoUrlError(f"stack {stack!r} has no url output yet: run `pulumi up -s {stack}` first")
    return outputs


def health_headers(url: str, env: Mapping[str, str]) -> dict[str, str]:
    """Authorization for a private Hugging Face Space; nothing for any other host, so the token
    never travels anywhere else."""
    parts = urlsplit(url)
    token = env.get("HF_TOKEN", "").strip()
    if token and parts.scheme == "https" and (parts.hostname or "").endswith(HF_SPACE_SUFFIX):
        return {"Authorization": f"Bearer {token}"}
    return {}


def describe(response: httpx.Response) -> tuple[bool, str]:
    """Whether the Studio is up, and the answer in a few words."""
    if response.status_code != 200:
        return False, f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return False, "HTTP 200, but not the Studio's health answer (not JSON)"
    if isinstance(body, dict) and body.get("status") == "ok":
        return True, "HTTP 200, status ok"
    return False, f"HTTP 200, but the Studio is not ready: {json.dumps(body)[:120]}"


def poll_once(client: httpx.Client, url: str, timeout: float) -> tuple[bool, str]:
    try:
        return describe(client.get(url, timeout=timeout))
    except httpx.TimeoutException:
        return False, f"no answer within {timeout:.0f} s"
    except httpx.TransportError as err:
        return False, f"no answer ({type(err).__name__}: {err})"


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60):3d}m{int(seconds % 60):02d}s"


@dataclass(frozen=True)
class Outcome:
    ready: bool
    seconds: float
    last_answer: str


def wait_until_healthy(
    base_url: str,
    *,
    timeout: float,
    interval: float,
    headers: Mapping[str, str] | None = None,
    report: Callable[[str], None] = say,
) -> Outcome:
    """Poll `<base_url>/api/health` until it is ok or `timeout` seconds have passed."""
    url = base_url.rstrip("/") + HEALTH_PATH
    started = time.monotonic()
    deadline = started + timeout
    last_answer, last_report = "", -PROGRESS_EVERY_SECONDS
    with httpx.Client(headers=dict(headers or {}), follow_redirects=False) as client:
        while True:
            now = time.monotonic()
            ready, answer = poll_once(client, url, max(0.1, min(REQUEST_TIMEOUT_SECONDS, deadline - now)))
            elapsed = time.monotonic() - started
            if ready or answer != last_answer or elapsed - last_report >= PROGRESS_EVERY_SECONDS:
                report(f"{minutes(elapsed)}  {answer}")
                last_answer, last_report = answer, elapsed
            if ready:
                return Outcome(True, elapsed, answer)
            if time.monotonic() + interval > deadline:
                return Outcome(False, elapsed, answer)
            time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lifecycle.wait_ready",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="read the URL from this stack's `url` output")
    target.add_argument("--url", help="the Studio's base URL, e.g. https://songgen-studio-dev.fly.dev")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds")
    parser.add_argument("--interval", type=float, default=10, help="seconds between two requests")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the Pulumi project directory")
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.interval <= 0:
        parser.error("--timeout and --interval must be positive")

    outputs: dict[str, object] = {}
    if args.stack:
        try:
            outputs = stack_outputs(args.stack, args.cwd)
        except NoUrlError as err:
            say(f"FAILED: {err}")
            return 2
    url = str(args.url or outputs["url"])
    say(f"waiting for {url.rstrip('/')}{HEALTH_PATH} (at most {args.timeout / 60:.0f} min)")
    say("a first boot downloads about 26 GB of weights before the Studio answers; a warm boot, none")
    outcome = wait_until_healthy(
        url, timeout=args.timeout, interval=args.interval, headers=health_headers(url, os.environ)
    )
    if outcome.ready:
        say(f"ready after {minutes(outcome.seconds).strip()}: {url}")
        return 0
    where = f"fly logs -a {outputs['app']}" if isinstance(outputs.get("app"), str) else "the platform's logs"
    say(
        f"FAILED: {url} did not answer {HEALTH_PATH} with status ok within {args.timeout / 60:.0f} min "
        f"(last answer: {outcome.last_answer}). A first boot may still be filling the volume: look at the "
        f"machine's log ({where}), or wait longer with --timeout."
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
