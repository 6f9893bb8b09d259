"""Lifecycle benchmark: what `up`, `preview`, `refresh` and `destroy` cost, against an empty program.

Runs the sandbox stack against the emulator with a fixed latency per API call, for 1, 4 and 16
machines, and the same five operations on an empty Python Pulumi program on the same engine (the
floor). Prints one table: wall time, the ratio to the floor, and the API calls by method.

    python -m bench.lifecycle [--latency 0.05] [--machines 1,4,16] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pulumi import automation as auto

from emulator import FlyEmulator
from lifecycle.workspace import SCRATCH_PASSPHRASE, engine_env, open_stack, project_copy, python_program

OPERATIONS = ("fresh up", "no-op preview", "no-op up", "refresh", "destroy")
# GPUs of this kind were offered in four regions, so 16 machines spread 4 per region.
GPU_KIND = "a100-sxm4-80gb"
REGIONS = ("iad", "sjc", "syd", "ams")
TOKEN = "bench-emulator-token"  # noqa: S105 (the emulator accepts any token)


@dataclass
class Measurement:
    seconds: float
    calls: Counter[str] = field(default_factory=Counter)


def spread(machines: int) -> dict[str, int]:
    per_region = Counter(REGIONS[i % len(REGIONS)] for i in range(machines))
    return dict(per_region)


def run_operations(stack: auto.Stack, emu: FlyEmulator | None) -> dict[str, Measurement]:
    steps: dict[str, Callable[[], object]] = {
        "fresh up": lambda: stack.up(color="never"),
        "no-op preview": lambda: stack.preview(color="never"),
        "no-op up": lambda: stack.up(color="never"),
        "refresh": lambda: stack.refresh(color="never"),
        "destroy": lambda: stack.destroy(color="never"),
    }
    results: dict[str, Measurement] = {}
    for name, action in steps.items():
        if emu is not None:
            emu.clear_requests()
        started = time.monotonic()
        action()
        elapsed = time.monotonic() - started
        calls = Counter(r.method for r in emu.requests()) if emu is not None else Counter()
        results[name] = Measurement(elapsed, calls)
    return results


def studio(scratch: Path, machines: int, latency: float) -> dict[str, Measurement]:
    with FlyEmulator(gpus_offered=True, latency=latency) as emu:
        project = project_copy(scratch / f"studio-{machines}")
        env = engine_env(
            scratch / f"state-{machines}",
            SCRATCH_PASSPHRASE,
            {"FLY_API_URL": emu.base_url, "FLY_API_TOKEN": TOKEN},
        )
        stack = open_stack(project, "sandbox", env)
        stack.set_config("songgen-studio:gpuKind", auto.ConfigValue(GPU_KIND))
        stack.set_config("songgen-studio:primaryRegion", auto.ConfigValue(REGIONS[0]))
        stack.set_config("songgen-studio:machines", auto.ConfigValue(json.dumps(spread(machines))))
        try:
            results = run_operations(stack, emu)
        finally:
            stack.workspace.remove_stack("sandbox", force=True)
        left = emu.billable()
        if left:
            raise SystemExit(f"destroy left resources behind: {left}")
        return results


def floor(scratch: Path) -> dict[str, Measurement]:
    """The same operations on a Python program that declares nothing."""
    project = python_program(scratch / "empty", "empty", "import pulumi\n\npulumi.export('nothing', None)\n")
    stack = open_stack(project, "floor", engine_env(scratch / "state-floor", SCRATCH_PASSPHRASE))
    try:
        return run_operations(stack, None)
    finally:
        stack.workspace.remove_stack("floor", force=True)


def table(rows: dict[int, dict[str, Measurement]], base: dict[str, Measurement], latency: float) -> str:
    lines = [
        f"latency per API call: {latency * 1000:.0f} ms; floor: an empty Python program on the same engine",
        "",
        "| machines | operation | wall s | floor s | ratio | GET | POST | PUT | DELETE |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for machines, results in rows.items():
        for op in OPERATIONS:
            m, f = results[op], base[op]
            lines.append(
                f"| {machines} | {op} | {m.seconds:.1f} | {f.seconds:.1f} | {m.seconds / f.seconds:.1f} "
                f"| {m.calls['GET']} | {m.calls['POST']} | {m.calls['PUT']} | {m.calls['DELETE']} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every API call")
    parser.add_argument("--machines", default="1,4,16", help="comma-separated machine counts")
    args = parser.parse_args()
    counts = [int(n) for n in args.machines.split(",")]
    with tempfile.TemporaryDirectory(prefix="songgen-bench-") as tmp:
        scratch = Path(tmp)
        print("measuring the floor (empty program) ...", flush=True)
        base = floor(scratch)
        rows = {}
        for machines in counts:
            print(f"measuring {machines} machine(s) ...", flush=True)
            rows[machines] = studio(scratch, machines, args.latency)
    print()
    print(table(rows, base, args.latency))


if __name__ == "__main__":
    main()
