"""Stacks of this project on a local state backend, through Pulumi's Automation API.

The project is copied into a scratch directory first, so `stack init` and `config set` never touch
the tracked stack files, and the copy shares the project's virtualenv.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pulumi import automation as auto

ROOT = Path(__file__).resolve().parent.parent
# Pulumi.sandbox.yaml's encryptionsalt was made with this passphrase. Sandbox and test stacks hold
# nothing secret that is real, so a published passphrase is fine there; real stacks choose their own.
SCRATCH_PASSPHRASE = "sandbox"  # noqa: S105 (deliberately public, see above)
# docker/ is the Spaces platform's build context, which its providers commit to the Space.
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "components", "docker")
STACK_FILE = re.compile(r"Pulumi\.[^.]+\.yaml")


def committed_stack_files(root: Path | None = None) -> dict[str, str]:
    """The stack files committed at HEAD that the work tree has lost, by file name.

    `pulumi stack rm sandbox` without `--preserve-config` deletes the tracked Pulumi.sandbox.yaml;
    the committed text stands in for it so the sandbox and the tests keep working. Empty outside git.
    """
    checkout = root or ROOT

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(checkout), *args], capture_output=True, text=True, check=False
        )

    if shutil.which("git") is None:
        return {}
    committed = git("ls-tree", "--name-only", "HEAD").stdout.split()
    stack_files = [name for name in committed if STACK_FILE.fullmatch(name)]
    return {
        name: git("show", f"HEAD:{name}").stdout for name in stack_files if not (checkout / name).exists()
    }


def project_copy(dest: Path, *, stack_files: Mapping[str, str] | None = None) -> Path:
    """Copy the program into `dest` with the tracked stack files, plus any given as text.

    A second call for the same `dest` only adds the stack files it is given (several stacks of one project).
    """
    if not (dest / "Pulumi.yaml").exists():
        dest.mkdir(parents=True, exist_ok=True)
        for name in PROGRAM_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, dest / name)
        for name, text in committed_stack_files().items():
            (dest / name).write_text(text)
        for stack_file in ROOT.glob("Pulumi.*.yaml"):
            shutil.copy2(stack_file, dest / stack_file.name)
        (dest / ".venv").symlink_to(ROOT / ".venv")
    for stack, text in (stack_files or {}).items():
        (dest / f"Pulumi.{stack}.yaml").write_text(text)
    return dest


def python_program(dest: Path, name: str, source: str) -> Path:
    """A one-file Python Pulumi program in `dest` that runs on the project's virtualenv."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime:\n  name: python\n  options:\n    virtualenv: {ROOT / '.venv'}\n"
    )
    (dest / "__main__.py").write_text(source)
    return dest


def engine_env(state_dir: Path, passphrase: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for the engine: local state, no plugin downloads, no update checks."""
    state_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PULUMI_BACKEND_URL": state_dir.resolve().as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        **(extra or {}),
    }


def open_stack(project_dir: Path, stack: str, env: Mapping[str, str]) -> auto.Stack:
    """Create or select `stack` of the project in `project_dir` with the given engine environment."""
    workspace = auto.LocalWorkspaceOptions(work_dir=str(project_dir), env_vars=dict(env))
    return auto.create_or_select_stack(stack_name=stack, work_dir=str(project_dir), opts=workspace)
