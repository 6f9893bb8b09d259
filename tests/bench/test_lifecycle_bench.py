"""`python -m bench.lifecycle`: the arguments its docstring advertises, and both ways to print results."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from bench.lifecycle import OPERATIONS, Measurement, markdown_section, parse_args, text_table
from lifecycle.workspace import ROOT


def measured(seconds: float, **calls: int) -> dict[str, Measurement]:
    return {op: Measurement(seconds, Counter(calls)) for op in OPERATIONS}


RESULTS = {1: measured(3.0, GET=8, POST=5), 16: measured(5.0, GET=68, POST=35, DELETE=35)}
FLOOR = measured(1.5)
COLUMN_WORDS = ("machines", "operation", "wall", "s", "floor", "s", "ratio", "GET", "POST", "PUT", "DELETE")


def test_every_argument_in_the_docstring_is_accepted() -> None:
    args = parse_args(["--latency", "0.05", "--machines", "1,4,16", "--markdown"])
    assert (args.latency, args.machines, args.markdown) == (0.05, [1, 4, 16], True)
    assert parse_args([]).markdown is False


@pytest.mark.parametrize("argv", [["--machines", "1,x"], ["--machines", "0"], ["--latency", "-1"]])
def test_bad_arguments_are_refused_with_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse_args(argv)
    assert caught.value.code == 2


def test_markdown_is_a_dated_section_in_the_format_of_the_results_file() -> None:
    section = markdown_section(RESULTS, FLOOR, 0.05).splitlines()
    assert section[0].startswith("## 20")
    assert " cores, " in section[0]
    assert " GB, Python 3." in section[0]
    recorded = (ROOT / "bench" / "RESULTS.md").read_text().splitlines()
    header = next(i for i, line in enumerate(recorded) if line.startswith("| machines |"))
    assert section[4:6] == recorded[header : header + 2]
    assert "| 16 | fresh up | 5.0 | 1.5 | 3.3 | 68 | 35 | 0 | 35 |" in section
    assert len(section) == 6 + 2 * len(OPERATIONS)


def test_the_plain_table_lines_up_its_columns() -> None:
    lines = text_table(RESULTS, FLOOR, 0.05).splitlines()
    table = lines[2:]
    assert table[0].split() == list(COLUMN_WORDS)
    assert len({len(line) for line in table}) == 1
    assert "|" not in "".join(lines)


@pytest.mark.engine
def test_the_benchmark_runs_end_to_end_and_prints_markdown() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.lifecycle", "--machines", "1", "--latency", "0", "--markdown"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 1 | ")]
    assert [row.split(" | ")[1] for row in rows] == list(OPERATIONS)
