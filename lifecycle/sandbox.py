"""`make sandbox`: the whole lifecycle offline, for every platform (or the one `PLATFORM=` names), each
against its bundled stand-in (lifecycle/stand_ins.py).

up, a preview that must show no changes, the outputs, destroy, and proof that nothing is left —
on a scratch copy of the project with a local state backend, no account, no token, no money.
Exits non-zero when any step fails, the preview plans a change, or something is left behind.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from lifecycle.stand_ins import STAND_INS, StandIn
from lifecycle.workspace import (
    SCRATCH_PASSPHRASE,
    committed_stack_files,
    engine_env,
    open_stack,
    project_copy,
)


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
    say(f"image:    {show('image')}")
    say(f"runs:     {json.dumps(show('runs'))}")
    say(f"stores:   {json.dumps(show('stores'))}")
    cost = show("cost_usd")
    money = {key: f"${value:.2f}" if isinstance(value, float | int) else value for key, value in cost.items()}
    say(
        f"cost:     {money['per_running_hour']} per running hour, {money['per_idle_month']} per idle month, "
        f"{money['per_month_at_busy_hours']} a month at {cost['busy_hours_per_month']} busy hours "
        f"(prices as of {cost['prices_as_of']})"
    )
    for what, how in show("look").items():
        say(f"{what + ':':<9} {how}")


def run(platform: str, scratch: Path, timings: list[tuple[str, float]]) -> list[str]:
    """Runs one platform's lifecycle; returns the problems found (empty when everything held)."""
    problems: list[str] = []
    with STAND_INS[platform](scratch) as stand_in:
        for line in stand_in.banner:
            say(line)
        problems += lifecycle(platform, stand_in, scratch, timings)
        left = stand_in.billable()
        if left:
            problems.append(f"{platform}: left behind: {left}")
        else:
            say(f"{platform}: nothing billable is left: {stand_in.nothing_left}")
    say(f"{platform}: stopped the stand-in")
    return problems


def lifecycle(platform: str, stand_in: StandIn, scratch: Path, timings: list[tuple[str, float]]) -> list[str]:
    problems: list[str] = []
    name = stand_in.stack
    stack_file = f"Pulumi.{name}.yaml"
    if stack_file in committed_stack_files():
        say(f"{stack_file} is missing here (`pulumi stack rm {name}` deletes it unless given")
        say(f"--preserve-config): using the committed one. Restore it: git checkout -- {stack_file}")
    project = project_copy(scratch / platform / "project")
    stack = open_stack(
        project, name, engine_env(scratch / platform / "state", SCRATCH_PASSPHRASE, stand_in.env)
    )
    for key, value in stand_in.config.items():
        stack.set_config(key, auto.ConfigValue(value))
    try:
        with step(f"{platform}: pulumi up", timings):
            up = stack.up(on_output=stream("up"), color="never")
        with step(f"{platform}: pulumi preview (expecting no changes)", timings):
            preview = stack.preview(on_output=stream("preview"), color="never")
        changes = {op: n for op, n in preview.change_summary.items() if op != auto.OpType.SAME and n}
        if changes:
            problems.append(f"{platform}: the preview after up planned changes: {changes}")
        summarize_outputs(up.outputs)
    finally:
        with step(f"{platform}: pulumi destroy", timings):
            stack.destroy(on_output=stream("destroy"), color="never")
        stack.workspace.remove_stack(name)
    return problems


def main() -> int:
    chosen = os.environ.get("PLATFORM", "").strip()
    if chosen and chosen not in STAND_INS:
        say(
            f"PLATFORM={chosen!r} has no sandbox; use one of {', '.join(STAND_INS)} (or leave it unset for all)"
        )
        return 2
    timings: list[tuple[str, float]] = []
    started = time.monotonic()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="songgen-sandbox-") as scratch:
        for platform in [chosen] if chosen else list(STAND_INS):
            try:
                problems += run(platform, Path(scratch), timings)
            except auto.CommandError as err:
                problems.append(f"{platform}: a Pulumi command failed:\n{err}")
    say("timings:")
    for name, seconds in timings:
        say(f"  {name:<48} {seconds:6.1f} s")
    say(f"  {'total':<48} {time.monotonic() - started:6.1f} s")
    for problem in problems:
        say(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
