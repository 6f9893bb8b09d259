"""Walks the README: every marked block runs as written, in a fresh copy of the project, and must succeed.

A block marked `local` runs as it is. A block marked `sandbox` stands for a real deploy, so it runs
against the sandbox in place of a Fly account: the emulator (with GPUs, as Fly had them) answers at
FLY_API_URL, `fly` is a stand-in that only creates tokens, every stack file names a prebuilt image, and
the block must leave nothing billable. For every block: no plugin downloads, no update checks and uv
offline (the offline switches of the sandbox), a proxy that refuses anything but 127.0.0.1, confirmations answered
yes (PULUMI_SKIP_CONFIRMATIONS, for the person at the prompt), prompts answered with the sandbox
passphrase, the README's emulator port 4280 moved to a free port so that walks can run side by side,
and every process the block started stopped at the end (one still running is a failure). A block must
not delete any file of the project (as `pulumi stack rm` without --preserve-config would).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from emulator import FlyEmulator
from lifecycle.workspace import ROOT, SCRATCH_PASSPHRASE
from tests.readme.blocks import MODES, Block, marked_blocks

pytestmark = pytest.mark.engine

BLOCKS = marked_blocks((ROOT / "README.md").read_text())
BLOCK_TIMEOUT_SECONDS = 420
README_EMULATOR_PORT = re.compile(r"\b4280\b")
# Variables of the shell running the tests that must not leak into a block: it starts from a clean slate.
INHERITED_NOT = ("PULUMI_", "FLY_", "AWS_", "MAKE", "MFLAGS", "HF_TOKEN", "VIRTUAL_ENV", "PYTHONPATH")
FLY_STAND_IN = """#!/bin/sh
# The README walk's stand-in for flyctl: it creates tokens and does nothing else.
if [ "$1 $2" = "tokens create" ]; then
    echo "FlyV1 fm2_readme-walk-token"
    exit 0
fi
echo "fly stand-in: the README walk offers only 'fly tokens create' (asked: fly $*)" >&2
exit 1
"""
NO_FLY = """#!/bin/sh
echo "a block marked local must not need flyctl (asked: fly $*); mark it sandbox" >&2
exit 1
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fresh_copy(dest: Path) -> Path:
    """The project's files as a new clone would have them (tracked and new, not ignored ones)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    return dest


def prebuilt_images(project: Path) -> None:
    """Every stack without an image builder gets a prebuilt reference: nothing to build or push."""
    for stack_file in project.glob("Pulumi.*.yaml"):
        text = yaml.safe_load(stack_file.read_text()) or {}
        config = text.setdefault("config", {}) or {}
        text["config"] = config
        if "songgen-studio:imageBuilder" in config:
            continue
        stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
        app = config.get("songgen-studio:appName", f"songgen-studio-{stack}")
        config["songgen-studio:imageBuilder"] = "prebuilt"
        config["songgen-studio:image"] = f"registry.fly.io/{app}:prebuilt"
        stack_file.write_text(yaml.safe_dump(text, sort_keys=False))


def shell_path() -> str:
    """PATH without the toolchain and virtualenv that the test run put on it: a block gets those only
    the way the README says (source <(make -s env))."""
    recorded = ROOT / ".venv" / ".tools-path"
    toolchain = set(recorded.read_text().strip().split(os.pathsep)) if recorded.exists() else set()
    toolchain.add(str(ROOT / ".venv" / "bin"))
    return os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in toolchain
    )


def block_env(shims: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_NOT)}
    refuse = "http://127.0.0.1:9"  # a closed port: any request bound elsewhere fails at once
    env.update(
        {
            "PATH": f"{shims}{os.pathsep}{shell_path()}",
            "HTTP_PROXY": refuse,
            "HTTPS_PROXY": refuse,
            "ALL_PROXY": refuse,
            "NO_PROXY": "127.0.0.1,localhost",
            "UV_OFFLINE": "1",  # the packages come from uv's cache, which the test run's setup filled
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            **extra,
        }
    )
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        env[name] = env[name.upper()]
    return env


def stand_in(shims: Path, script: str) -> None:
    shims.mkdir(parents=True, exist_ok=True)
    for name in ("fly", "flyctl"):
        (shims / name).write_text(script)
        (shims / name).chmod(0o755)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(pgid: int) -> bool:
    """Stops what is left of the block's process group; True if anything was still running after a
    grace period for processes that were already on their way out."""
    deadline = time.monotonic() + 10
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not group_alive(pgid):
        return False
    os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    return True


def run_block(block: Block, project: Path, env: dict[str, str], log: Path) -> None:
    code = README_EMULATOR_PORT.sub(str(free_port()), block.code)
    answers = f"{SCRATCH_PASSPHRASE}\n" * 5
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", code],
            cwd=project,
            env=env,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            proc.communicate(input=answers, timeout=BLOCK_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        finally:
            left_running = stop_group(proc.pid)
    transcript = log.read_text()
    where = f"README.md line {block.line} ({block.section})"
    assert proc.returncode == 0, f"{where} failed with status {proc.returncode}:\n{transcript[-6000:]}"
    assert not left_running, f"{where} left processes running:\n{transcript[-3000:]}"


@pytest.fixture
def emulator() -> Iterator[FlyEmulator]:
    with FlyEmulator(gpus_offered=True) as emu:
        yield emu


def test_the_readme_marks_runnable_blocks_of_every_mode() -> None:
    assert {block.mode for block in BLOCKS} == set(MODES)
    deploy = [b for b in BLOCKS if b.mode == "sandbox" and "pulumi up -s dev" in b.code]
    assert deploy, "the real deploy's commands must be walked"


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_the_readme_block_runs_as_written(block: Block, tmp_path: Path, emulator: FlyEmulator) -> None:
    project = fresh_copy(tmp_path / "project")
    shims = tmp_path / "shims"
    extra: dict[str, str] = {}
    if block.mode == "sandbox":
        stand_in(shims, FLY_STAND_IN)
        prebuilt_images(project)
        extra = {"FLY_API_URL": emulator.base_url, "FLY_API_TOKEN": "fm2_readme-walk-token"}
    else:
        stand_in(shims, NO_FLY)
    tracked = [path for path in project.rglob("*") if path.is_file()]
    run_block(block, project, block_env(shims, extra), tmp_path / "block.log")
    deleted = [str(path.relative_to(project)) for path in tracked if not path.exists()]
    assert deleted == [], f"README.md line {block.line} deleted files of the project: {deleted}"
    if block.mode == "sandbox":
        assert emulator.requests(), "a sandbox block that never reaches Fly's API should be marked local"
        assert emulator.billable() == [], f"README.md line {block.line} left billable resources behind"
