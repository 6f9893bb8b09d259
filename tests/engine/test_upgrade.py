"""A Fly stack made by the project before it had platforms upgrades without a single replacement."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from pulumi import automation as auto

from emulator import FlyEmulator
from lifecycle.workspace import PROGRAM_FILES, ROOT, SCRATCH_PASSPHRASE, engine_env, open_stack
from tests.engine.fly_stack import destroy_leaves_nothing_billable, machines, volumes

pytestmark = pytest.mark.engine

# The last release of the program before the platform seam and the ownership markers.
BEFORE_PLATFORMS = "39eed255ff86dbbcb1631b0b32b4a573b0ff3495"
# What an upgrade may do: create what is new (the stored-data guard), update in place (machines take the
# owner marker in their metadata). Never delete or replace.
ALLOWED = {auto.OpType.SAME, auto.OpType.CREATE, auto.OpType.UPDATE}


def program_at(commit: str, dest: Path) -> Path:
    """The program and stack files as they were at `commit`, from this repository's history."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, *PROGRAM_FILES, "Pulumi.sandbox.yaml"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert archive.returncode == 0, (
        f"this test needs the commit {commit} in the repository's history (a full clone): "
        f"{archive.stderr.decode().strip()}"
    )
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def upgrade_in_place(project: Path) -> None:
    for name in PROGRAM_FILES:
        target = project / name
        if target.is_dir():
            shutil.rmtree(target)
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)


def test_a_fly_stack_made_before_platforms_upgrades_without_a_replacement(
    tmp_path: Path, emulator: FlyEmulator, fly_env: dict[str, str]
) -> None:
    project = program_at(BEFORE_PLATFORMS, tmp_path / "project")
    stack = open_stack(project, "sandbox", engine_env(tmp_path / "state", SCRATCH_PASSPHRASE, fly_env))
    try:
        stack.up(color="never")
        (machine,) = machines(emulator)
        (volume,) = volumes(emulator)

        upgrade_in_place(project)
        preview = stack.preview(color="never", diff=True)
        planned = {op for op, n in preview.change_summary.items() if n}
        assert planned <= ALLOWED, preview.change_summary

        stack.up(color="never")
        (after,) = machines(emulator)
        assert after["id"] == machine["id"]
        assert [v["id"] for v in volumes(emulator)] == [volume["id"]]
        assert after["config"]["metadata"]["songgen_owner"] == "organization/songgen-studio/sandbox"
        destroy_leaves_nothing_billable(stack, emulator)
    finally:
        stack.workspace.remove_stack("sandbox", force=True)
