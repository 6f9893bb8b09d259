"""`make sandbox`: the whole lifecycle offline, against the bundled Fly API emulator.

up, a preview that must show no changes, the outputs, destroy, and proof that nothing is left —
on a scratch copy of the project with a local state backend, no account, no token, no money.
Exits non-zero when any step fails, the preview plans a change, or something is left behind.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from emulator import FlyEmulator
from lifecycle.workspace import (
    SCRATCH_PASSPHRASE,
    committed_stack_files,
    engine_env,
    open_stack,
    project_copy,
)

STACK = "sandbox"
# The emulator accepts any token; this one only has to be non-empty.
EMULATOR_TOKEN = "sandbox-emulator-token"  # noqa: S105


def say(message: str) -> None:
    print(f"sandbox: {message}", flush=True)


@contextmanager
def step(name: str, timings: list[tuple[str, float]]) -> Iterator[None]:
    say(f"{name} ...")
    started = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - started
        timings.append((name, elapsed))
        say(f"{name} took {elapsed:.1f} s")


def stream(prefix: str) -> Callable[[str], None]:
    def write(line: str) -> None:
        print(f"  {prefix} | {line.rstrip()}", flush=True)

    return write


def summarize_outputs(outputs: Mapping[str, auto.OutputValue]) -> None:
    def show(key: str) -> Any:
        value = outputs[key]
        return "[secret]" if value.secret else value.value

    say(f"url:      {show('url')}")
    say(f"app:      {show('app')}")
    say(f"image:    {show('image')}")
    say(f"machines: {json.dumps(show('machines'))}")
    say(f"volumes:  {json.dumps(show('volumes'))}")
    cost = show("cost_usd")
    say(
        f"cost:     ${cost['per_running_hour']:.2f} per running hour, ${cost['per_idle_month']:.2f} per idle "
        f"month, ${cost['per_month_at_busy_hours']:.2f} a month at {cost['busy_hours_per_month']} busy hours "
        f"(prices as of {cost['prices_as_of']})"
    )


def run(scratch: Path, timings: list[tuple[str, float]]) -> list[str]:
    """Runs the lifecycle; returns the problems found (empty when everything held)."""
    problems: list[str] = []
    with FlyEmulator(gpus_offered=True) as emu:
        say(
            f"started an EMULATION of the Fly Machines API at {emu.base_url} (GPUs offered, as Fly did before"
        )
        say("2026-08-01). Nothing here talks to Fly.io; nothing is billed.")
        stack_file = f"Pulumi.{STACK}.yaml"
        if stack_file in committed_stack_files():
            say(f"{stack_file} is missing here (`pulumi stack rm {STACK}` deletes it unless given")
            say(f"--preserve-config): using the committed one. Restore it: git checkout -- {stack_file}")
        project = project_copy(scratch / "project")
        env = engine_env(
            scratch / "state",
            SCRATCH_PASSPHRASE,
            {"FLY_API_URL": emu.base_url, "FLY_API_TOKEN": EMULATOR_TOKEN},
        )
        stack = open_stack(project, STACK, env)
        try:
            with step("pulumi up", timings):
                up = stack.up(on_output=stream("up"), color="never")
            with step("pulumi preview (expecting no changes)", timings):
                preview = stack.preview(on_output=stream("preview"), color="never")
            changes = {op: n for op, n in preview.change_summary.items() if op != auto.OpType.SAME and n}
            if changes:
                problems.append(f"the preview after up planned changes: {changes}")
            summarize_outputs(up.outputs)
        finally:
            with step("pulumi destroy", timings):
                stack.destroy(on_output=stream("destroy"), color="never")
            stack.workspace.remove_stack(STACK)
        left = emu.billable()
        if left:
            problems.append(f"left behind in the emulator: {left}")
        else:
            say("nothing billable is left: no app, machine, volume or IP address")
    say("stopped the emulator")
    return problems


def main() -> int:
    timings: list[tuple[str, float]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="songgen-sandbox-") as scratch:
        try:
            problems = run(Path(scratch), timings)
        except auto.CommandError as err:
            problems = [f"a Pulumi command failed:\n{err}"]
    say("timings:")
    for name, seconds in timings:
        say(f"  {name:<40} {seconds:6.1f} s")
    say(f"  {'total':<40} {time.monotonic() - started:6.1f} s")
    for problem in problems:
        say(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
