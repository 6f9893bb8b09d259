"""Stacks of this project on a local state backend, through Pulumi's Automation API.

The project is copied into a scratch directory first, so `stack init` and `config set` never touch
the tracked stack files, and the copy shares the project's virtualenv.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from pulumi import automation as auto

ROOT = Path(__file__).resolve().parent.parent
# Pulumi.sandbox.yaml's encryptionsalt was made with this passphrase. Sandbox and test stacks hold
# nothing secret that is real, so a published passphrase is fine there; real stacks choose their own.
SCRATCH_PASSPHRASE = "sandbox"  # noqa: S105 (deliberately public, see above)
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "components")


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
