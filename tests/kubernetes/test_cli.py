"""`python -m lifecycle.kube_cluster`: a cluster for a person that leaves nothing behind however it ends."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle.kube_cluster import BINARIES


def processes_using(directory: Path) -> list[int]:
    """Pids whose command line mentions `directory` (every component gets paths inside it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(directory).encode() in cmdline:
                pids.append(int(entry.name))
    return pids


@pytest.fixture
def cli(project_root: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """The command, started and ready, with the cluster's directory taken from the kubeconfig it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lifecycle.kube_cluster"],
        cwd=project_root,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    kubeconfig = None
    for _ in range(20):  # a handful of lines before it is ready, or EOF when it fails
        line = process.stdout.readline()
        if not line or line.startswith("export KUBECONFIG="):
            kubeconfig = line.removeprefix("export KUBECONFIG=").strip()
            break
    assert kubeconfig, f"the command did not become ready (exit code {process.poll()})"
    directory = Path(kubeconfig).parent
    yield process, directory
    process.kill()
    process.wait(timeout=30)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize(
    ("sig", "exit_code"),
    [(signal.SIGINT, 0), (signal.SIGTERM, 128 + signal.SIGTERM)],
    ids=["ctrl-c", "sigterm"],
)
def test_an_interrupt_stops_every_component_and_removes_the_directory(
    cli: tuple[subprocess.Popen[str], Path], sig: signal.Signals, exit_code: int
) -> None:
    process, directory = cli
    assert len(processes_using(directory)) == len(BINARIES)
    process.send_signal(sig)
    assert process.wait(timeout=60) == exit_code
    assert processes_using(directory) == []
    assert not directory.exists()


def test_components_die_with_a_killed_parent(cli: tuple[subprocess.Popen[str], Path]) -> None:
    process, directory = cli
    assert len(processes_using(directory)) == len(BINARIES)
    process.kill()  # no chance to clean up: the kernel's parent-death signal has to do it
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while processes_using(directory) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_using(directory) == []
