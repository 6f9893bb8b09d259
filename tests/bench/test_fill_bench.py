"""`python -m bench.fill`: its arguments, the repos it serves, the table it prints, and a small run end to end."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from bench.fill import COLUMNS, Results, Resume, Run, markdown_section, parse_args, text_table
from bench.fill_repos import bench_repos
from lifecycle.workspace import ROOT

MB = 1000**2


def results() -> Results:
    cold = Run(24.5, 0, Counter(api=4, download=331, cdn=45), 2_720_000_000)
    warm = Run(0.12, 0)
    resume = Resume(1_370_000_000, Run(13.9, 0, Counter(cdn=30), 1_390_000_000), 39 * MB)
    return Results("after", 2_720_000_000, 329, 16 * MB, 0.03, 8, cold, warm, resume)


def test_every_argument_in_the_docstring_is_accepted() -> None:
    args = parse_args(
        [
            *("--cap-mbps", "8", "--latency", "0.05", "--streams", "4", "--scale", "0.5"),
            *("--label", "x", "--fill", "library", "--markdown", "--keep"),
        ]
    )
    assert (args.cap_mbps, args.latency, args.streams, args.scale) == (8.0, 0.05, 4, 0.5)
    assert (args.label, args.fill, args.markdown, args.keep) == ("x", "library", True, True)
    assert parse_args([]).fill == "entrypoint"


@pytest.mark.parametrize(
    "argv", [["--cap-mbps", "0"], ["--streams", "0"], ["--scale", "9"], ["--fill", "git"]]
)
def test_bad_arguments_are_refused_with_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse_args(argv)
    assert caught.value.code == 2


def test_the_repos_are_shaped_like_the_real_ones() -> None:
    repos = bench_repos()
    sizes = sorted((len(c) if isinstance(c, bytes) else c.size) for r in repos for c in r.files.values())
    assert sum(1 for s in sizes if s < 100_000) >= 300, "hundreds of small source and config files"
    assert sum(1 for s in sizes if s > 100 * MB) >= 4, "a few large checkpoints"
    assert sizes[-1] > 1000 * MB, "one model.pt over a GB"
    assert 2000 * MB < sum(sizes) < 4000 * MB, "a few GB in all"
    assert all(path in r.files for r in repos for path in r.lfs), "the LFS files are in their repos"


def test_the_floor_is_bytes_over_the_cap_of_every_stream() -> None:
    assert results().floor_seconds == pytest.approx(2_720_000_000 / (16 * MB * 8))


def test_markdown_is_a_dated_section_in_the_format_of_the_results_file() -> None:
    section = markdown_section(results()).splitlines()
    assert section[0].startswith("## 20")
    recorded = (ROOT / "bench" / "RESULTS.md").read_text().splitlines()
    header = next(i for i, line in enumerate(recorded) if line.startswith("| code |"))
    assert section[4:6] == recorded[header : header + 2]
    assert section[6] == "| after | 24.5 | 21.2 | 1.15 | 111 | 4/331/45 | 0.12 | 0 | 13.9 | 39 |"


def test_the_plain_table_lines_up_its_columns() -> None:
    lines = text_table(results()).splitlines()[2:]
    assert lines[0].split() == [word for column in COLUMNS for word in column.split()]
    assert len({len(line) for line in lines}) == 1


def test_the_benchmark_runs_end_to_end_and_its_warm_boot_asks_nothing() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.fill",
            "--scale",
            "0.005",
            "--latency",
            "0",
            "--cap-mbps",
            "50",
            "--label",
            "tiny",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    row = result.stdout.strip().splitlines()[-1].split()
    assert row[0] == "tiny"
    assert row[COLUMNS.index("warm requests")] == "0"
