"""Fixtures shared by every test: the project root and a PATH that finds the Pulumi toolchain."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


def _tools_path() -> str:
    """The toolchain directories `make setup` recorded, so plain `pytest` finds them too."""
    recorded = ROOT / ".venv" / ".tools-path"
    return recorded.read_text().strip() if recorded.exists() else ""


@pytest.fixture(scope="session", autouse=True)
def _toolchain_on_path() -> None:
    tools = _tools_path()
    venv_bin = str(ROOT / ".venv" / "bin")
    parts = [p for p in [tools, venv_bin, os.environ.get("PATH", "")] if p]
    os.environ["PATH"] = os.pathsep.join(parts)
