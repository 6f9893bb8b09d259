"""Fill benchmark: how fast the entrypoint fills a volume from the Hub, against the physical floor.

Serves a scaled-down runtime bundle and model (bench/fill_repos.py: a few GB, many small files and a
few large checkpoints) from the Hub stand-in with a bandwidth cap per connection and a latency per
request, and runs the image's entrypoint (`python -m songgen_boot --prepare-only`) against it:

- cold: an empty volume filled; wall time, throughput and the requests by kind, against the floor:
  total bytes / (cap x parallel streams), the time no client could beat with that many connections;
- warm: the same volume booted again; it must make no request at all;
- resume: an empty volume whose fill is killed (SIGKILL of the whole process group: a machine that
  stops) once half the bytes are on disk, then booted again; the second boot's time and the bytes
  sent twice (before the kill and again after it), as the stand-in counted them.

    python -m bench.fill [--cap-mbps 16] [--latency 0.03] [--streams 8] [--scale 1.0]
                         [--label TEXT] [--fill entrypoint|library] [--markdown] [--keep]

`--streams` is passed to the entrypoint as SONGGEN_FILL_STREAMS and sets the floor. `--fill library`
measures huggingface_hub's own `snapshot_download(local_dir=..., max_workers=streams)` on the same
repos instead of the entrypoint (its warm boot asks the Hub for the revision; it has no manifest). Disk: about the
repos' total once (~2.7 GB at scale 1), in a temporary directory removed at the end (--keep keeps it).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.fill_repos import BASE_REPO, RUNTIME_REPO, Repo, bench_repos
from hub_emulator import HubEmulator

ROOT = Path(__file__).resolve().parent.parent
DOCKER_DIR = ROOT / "docker"
MB = 1000**2
GB = 1000**3
RUN_TIMEOUT_S = 1800.0  # one entrypoint run; today's single-stream code needs minutes at the default cap
POLL_S = 0.1
TRANSFER_KINDS = ("download", "cdn")


@dataclass
class Run:
    seconds: float
    exit_code: int
    requests: Counter[str] = field(default_factory=Counter)  # by kind: api, download, cdn
    transferred: int = 0  # file bytes the stand-in sent


@dataclass
class Resume:
    sent_before_kill: int  # file bytes the stand-in sent to the killed fill
    second: Run
    refetched: int  # bytes sent twice: before the kill and again after it


@dataclass
class Results:
    label: str
    total_bytes: int
    files: int
    cap: float
    latency: float
    streams: int
    cold: Run
    warm: Run
    resume: Resume

    @property
    def floor_seconds(self) -> float:
        return self.total_bytes / (self.cap * self.streams)


def allocated_bytes(root: Path) -> int:
    """Bytes of file data actually on disk under root, unfinished files included (sparse holes not)."""
    total = 0
    for directory, _, names in os.walk(root):
        for name in names:
            try:
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
            except FileNotFoundError:
                continue  # renamed into place while we looked
    return total


# --fill library: the library's own way to fetch a repo, for comparison (one connection per file; a
# partial file does not outlive its process).
SNAPSHOT = """
import sys
from huggingface_hub import snapshot_download
endpoint, data, workers, *repos = sys.argv[1:]
for repo, folder in zip(repos[::2], repos[1::2]):
    snapshot_download(repo, local_dir=f"{data}/{folder}", endpoint=endpoint, max_workers=int(workers))
"""
SNAPSHOT_FOLDERS = (RUNTIME_REPO, "runtime", BASE_REPO, "models/songgeneration_base")


class Bench:
    def __init__(self, hub: HubEmulator, scratch: Path, token: str, streams: int, fill: str) -> None:
        self.hub = hub
        self.scratch = scratch
        self.token = token
        self.streams = streams
        self.fill = fill
        self.app = scratch / "app"
        (self.app / "codeclm" / "tokenizer" / "Flow1dVAE").mkdir(parents=True, exist_ok=True)
        self.log = scratch / "entrypoint.log"
        self.started_at = 0.0

    def env(self, data: Path) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(DOCKER_DIR),
            "SONGGEN_DATA_DIR": str(data),
            "SONGGEN_APP_DIR": str(self.app),
            "SONGGEN_OVERLAY_DIR": str(self.scratch / "overlay"),
            "SONGGEN_LOCAL_DIR": str(self.scratch / "local"),
            "SONGGEN_RUN_AS": "",
            "SONGGEN_MODELS": "base",
            "SONGGEN_IDLE_STOP_MINUTES": "0",
            "SONGGEN_PROGRESS_SECONDS": "5",
            "SONGGEN_FILL_STREAMS": str(self.streams),
            "SONGGEN_FILL_PYTHON": sys.executable,
            "HF_ENDPOINT": self.hub.url,
            "HF_TOKEN": self.token,
            "HF_HOME": str(self.scratch / "hf-home"),
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }

    def command(self, data: Path) -> list[str]:
        if self.fill == "library":
            return [
                sys.executable,
                "-c",
                SNAPSHOT,
                self.hub.url,
                str(data),
                str(self.streams),
                *SNAPSHOT_FOLDERS,
            ]
        return [sys.executable, "-m", "songgen_boot", "--prepare-only"]

    def start(self, data: Path) -> subprocess.Popen[bytes]:
        self.hub.clear_requests()
        self.started_at = time.time()  # requests are told apart by when they came, not when they were logged
        with self.log.open("ab") as log:
            return subprocess.Popen(
                self.command(data),
                env=self.env(data),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a kill takes every child with it
            )

    def finish(self, proc: subprocess.Popen[bytes], started: float) -> Run:
        try:
            code = proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise SystemExit(
                f"the entrypoint did not finish within {RUN_TIMEOUT_S:.0f} s; see {self.log}"
            ) from None
        seconds = time.monotonic() - started
        records = [r for r in self.hub.requests() if r.at >= self.started_at]
        return Run(
            seconds,
            code,
            Counter(r.kind for r in records),
            sum(r.bytes_sent for r in records if r.kind in TRANSFER_KINDS),
        )

    def boot(self, data: Path) -> Run:
        started = time.monotonic()
        run = self.finish(self.start(data), started)
        if run.exit_code != 0:
            tail = "".join(self.log.read_text(errors="replace").splitlines(keepends=True)[-20:])
            raise SystemExit(f"the entrypoint failed with exit code {run.exit_code}:\n{tail}")
        return run

    def killed_half_way(self, data: Path, total: int) -> Resume:
        proc = self.start(data)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while allocated_bytes(data) < total // 2:
            if proc.poll() is not None:
                raise SystemExit(f"the fill ended (exit {proc.returncode}) before half way; see {self.log}")
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed_at = time.time()
        time.sleep(1.0)  # the stand-in logs a cut request when it notices the connection is gone
        before = sum(
            r.bytes_sent for r in self.hub.requests() if r.kind in TRANSFER_KINDS and r.at < killed_at
        )
        second = self.boot(data)
        return Resume(before, second, max(0, before + second.transferred - total))


def measure(args: argparse.Namespace, scratch: Path) -> Results:
    repos = bench_repos(args.scale)
    total = sum(repo.total_bytes for repo in repos)
    with HubEmulator(bandwidth=args.cap_mbps * MB, latency=args.latency) as hub:
        seed(hub, repos)
        hub.add_user("bench")
        bench = Bench(hub, scratch, hub.new_token("bench", "read"), args.streams, args.fill)
        say(f"cold fill of {total / GB:.2f} GB ({sum(len(r.files) for r in repos)} files)")
        cold = bench.boot(scratch / "data")
        say(f"cold: {cold.seconds:.1f} s; warm boot")
        warm = bench.boot(scratch / "data")
        shutil.rmtree(scratch / "data")
        say("resume: killing a fill half way, then booting again")
        resume = bench.killed_half_way(scratch / "resume", total)
        shutil.rmtree(scratch / "resume")
    return Results(
        args.label,
        total,
        sum(len(r.files) for r in repos),
        args.cap_mbps * MB,
        args.latency,
        args.streams,
        cold,
        warm,
        resume,
    )


def seed(hub: HubEmulator, repos: list[Repo]) -> None:
    hub.add_user("lglg666")
    for repo in repos:
        hub.add_repo(repo.repo_id, repo.files, lfs=repo.lfs)


# ---- output ----

COLUMNS = (
    "code",
    "cold s",
    "floor s",
    "ratio",
    "MB/s",
    "requests",
    "warm s",
    "warm requests",
    "resumed s",
    "refetched MB",
)


def requests_cell(run: Run) -> str:
    return "/".join(str(run.requests[kind]) for kind in ("api", "download", "cdn"))


def row(r: Results) -> list[str]:
    return [
        r.label,
        f"{r.cold.seconds:.1f}",
        f"{r.floor_seconds:.1f}",
        f"{r.cold.seconds / r.floor_seconds:.2f}",
        f"{r.total_bytes / r.cold.seconds / MB:.0f}",
        requests_cell(r.cold),
        f"{r.warm.seconds:.2f}",
        str(sum(r.warm.requests.values())),
        f"{r.resume.second.seconds:.1f}",
        f"{r.resume.refetched / MB:.0f}",
    ]


def caption(r: Results) -> str:
    return (
        f"{r.total_bytes / GB:.2f} GB in {r.files} files; cap {r.cap / MB:g} MB/s per connection, "
        f"{r.latency * 1000:g} ms per request, floor = bytes / (cap x {r.streams} streams); requests: "
        f"api/download/cdn; resume: killed once half the bytes were on disk ({r.resume.sent_before_kill / GB:.2f} GB "
        f"sent), then booted again; refetched: bytes sent both before and after the kill"
    )


def text_table(r: Results) -> str:
    rows = [list(COLUMNS), row(r)]
    widths = [max(len(line[i]) for line in rows) for i in range(len(COLUMNS))]
    lines = [caption(r), ""]
    for line in rows:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def markdown_section(r: Results) -> str:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return "\n".join(
        [
            f"## {datetime.now(UTC).date()}, {os.cpu_count()} cores, {memory_gb:.0f} GB, "
            f"Python {platform.python_version()}",
            "",
            caption(r),
            "",
            "| " + " | ".join(COLUMNS) + " |",
            "|---|" + "---:|" * (len(COLUMNS) - 1),
            "| " + " | ".join(row(r)) + " |",
        ]
    )


_START = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _START:6.1f}s] {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fill", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cap-mbps", type=float, default=16.0, help="MB/s per connection (default 16)")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds added to every request")
    parser.add_argument("--streams", type=int, default=8, help="parallel streams of the fill (and the floor)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the size of every large file")
    parser.add_argument("--label", default="this branch", help="the code measured, for the table")
    parser.add_argument(
        "--fill",
        choices=("entrypoint", "library"),
        default="entrypoint",
        help="what fills the volume: the entrypoint (default) or huggingface_hub's snapshot_download, for comparison",
    )
    parser.add_argument("--markdown", action="store_true", help="print a dated section for bench/RESULTS.md")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch directory and the entrypoint log"
    )
    args = parser.parse_args(argv)
    if args.cap_mbps <= 0 or args.latency < 0 or args.streams < 1 or not 0 < args.scale <= 4:
        parser.error("--cap-mbps must be positive, --latency not negative, --streams >= 1, 0 < --scale <= 4")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="songgen-fill-bench-"))
    try:
        results = measure(args, scratch)
    finally:
        if args.keep:
            say(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(markdown_section(results) if args.markdown else text_table(results))


if __name__ == "__main__":
    main()
