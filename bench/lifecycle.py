"""Lifecycle benchmark: what `up`, `preview`, `refresh` and `destroy` cost, against an empty program.

Runs the sandbox stack against the emulator with a fixed latency per API call, for 1, 4 and 16
machines, and the same five operations on an empty Python Pulumi program on the same engine (the
floor). Prints one table: wall time, the ratio to the floor, and the API calls by method; with
--markdown, as a dated section to paste into bench/RESULTS.md.

    python -m bench.lifecycle [--latency 0.05] [--machines 1,4,16] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


COLUMNS = ("machines", "operation", "wall s", "floor s", "ratio", "GET", "POST", "PUT", "DELETE")


def rows_of(results: dict[int, dict[str, Measurement]], base: dict[str, Measurement]) -> list[list[str]]:
    rows = []
    for machines, measured in results.items():
        for op in OPERATIONS:
            m, f = measured[op], base[op]
            rows.append(
                [str(machines), op, f"{m.seconds:.1f}", f"{f.seconds:.1f}", f"{m.seconds / f.seconds:.1f}"]
                + [str(m.calls[method]) for method in ("GET", "POST", "PUT", "DELETE")]
            )
    return rows


def caption(latency: float) -> str:
    return f"latency per API call: {latency * 1000:.0f} ms; floor: an empty Python program on the same engine"


def text_table(
    results: dict[int, dict[str, Measurement]], base: dict[str, Measurement], latency: float
) -> str:
    """Aligned columns for a terminal."""
    rows = [list(COLUMNS), *rows_of(results, base)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [caption(latency), ""]
    for row in rows:
        cells = [
            cell.ljust(w) if i == 1 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def markdown_section(
    results: dict[int, dict[str, Measurement]], base: dict[str, Measurement], latency: float
) -> str:
    """A dated section for bench/RESULTS.md: the machine it ran on, then the table."""
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        f"## {datetime.now(UTC).date()}, {os.cpu_count()} cores, {memory_gb:.0f} GB, "
        f"Python {platform.python_version()}",
        "",
        caption(latency),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|---:|---|" + "---:|" * (len(COLUMNS) - 2),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows_of(results, base)]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lifecycle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every API call")
    parser.add_argument("--machines", default="1,4,16", help="comma-separated machine counts")
    parser.add_argument(
        "--markdown", action="store_true", help="print a dated section to paste into bench/RESULTS.md"
    )
    args = parser.parse_args(argv)
    try:
        args.machines = [int(n) for n in args.machines.split(",")]
    except ValueError:
        parser.error(f"--machines takes comma-separated counts, e.g. 1,4,16, not {args.machines!r}")
    if args.latency < 0 or any(n < 1 for n in args.machines):
        parser.error("--latency must not be negative and every machine count must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="songgen-bench-") as tmp:
        scratch = Path(tmp)
        print("measuring the floor (empty program) ...", flush=True)
        base = floor(scratch)
        results = {}
        for machines in args.machines:
            print(f"measuring {machines} machine(s) ...", flush=True)
            results[machines] = studio(scratch, machines, args.latency)
    print()
    render = markdown_section if args.markdown else text_table
    print(render(results, base, args.latency))


if __name__ == "__main__":
    main()
