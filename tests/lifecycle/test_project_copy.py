"""The scratch copy the sandbox, tests and benchmarks run in: a lost stack file comes back from git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lifecycle import workspace
from lifecycle.workspace import committed_stack_files, project_copy

COMMITTED_SANDBOX = "config:\n  songgen-studio:imageBuilder: prebuilt\nencryptionsalt: v1:committed\n"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git work tree shaped like the project, with a committed sandbox stack file."""
    root = tmp_path / "checkout"
    (root / "components").mkdir(parents=True)
    (root / "components" / "__init__.py").write_text("")
    (root / "docker").mkdir()
    (root / "docker" / "Dockerfile").write_text("FROM scratch\n")
    (root / "__main__.py").write_text("")
    (root / "Pulumi.yaml").write_text("name: songgen-studio\n")
    (root / "Pulumi.sandbox.yaml").write_text(COMMITTED_SANDBOX)
    (root / "Pulumi.dev.yaml").write_text("config: {}\n")
    (root / ".venv").mkdir()
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "project"], check=True)
    return root


def test_a_stack_file_removed_by_stack_rm_is_restored_from_the_last_commit_in_the_copy(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace, "ROOT", checkout)
    (checkout / "Pulumi.sandbox.yaml").unlink()  # what `pulumi stack rm sandbox` does
    assert committed_stack_files(checkout) == {"Pulumi.sandbox.yaml": COMMITTED_SANDBOX}
    copy = project_copy(tmp_path / "copy")
    assert (copy / "Pulumi.sandbox.yaml").read_text() == COMMITTED_SANDBOX
    assert not (checkout / "Pulumi.sandbox.yaml").exists()  # the work tree itself is left alone


def test_a_stack_file_present_in_the_work_tree_wins_over_the_committed_one(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace, "ROOT", checkout)
    edited = COMMITTED_SANDBOX + "# edited\n"
    (checkout / "Pulumi.sandbox.yaml").write_text(edited)
    assert committed_stack_files(checkout) == {}
    copy = project_copy(tmp_path / "copy")
    assert (copy / "Pulumi.sandbox.yaml").read_text() == edited
    assert (copy / "Pulumi.dev.yaml").exists()


def test_outside_a_git_checkout_nothing_is_restored(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: songgen-studio\n")
    assert committed_stack_files(tmp_path) == {}
