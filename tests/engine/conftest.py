"""Real-engine fixtures: a scratch copy of the project and a local state backend per test."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from emulator import FlyEmulator
from lifecycle.workspace import SCRATCH_PASSPHRASE, engine_env, open_stack, project_copy

StackFactory = Callable[..., auto.Stack]


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[StackFactory]:
    """Returns a function that opens a stack of a fresh project copy; stacks are removed afterwards."""
    opened: list[auto.Stack] = []

    def make(stack: str, *, stack_file: str | None = None, env: dict[str, str] | None = None) -> auto.Stack:
        project = project_copy(tmp_path / "project", stack_files={stack: stack_file} if stack_file else None)
        result = open_stack(project, stack, engine_env(tmp_path / "state", SCRATCH_PASSPHRASE, env))
        opened.append(result)
        return result

    yield make
    for stack in opened:
        stack.workspace.remove_stack(stack.name, force=True)


@pytest.fixture
def emulator() -> Iterator[FlyEmulator]:
    with FlyEmulator(gpus_offered=True) as emu:
        yield emu


@pytest.fixture
def fly_token() -> str:
    return "fm2_" + secrets.token_urlsafe(24)


@pytest.fixture
def fly_env(emulator: FlyEmulator, fly_token: str) -> dict[str, str]:
    return {"FLY_API_URL": emulator.base_url, "FLY_API_TOKEN": fly_token}


@pytest.fixture
def stack(make_stack: StackFactory, fly_env: dict[str, str]) -> auto.Stack:
    """The sandbox stack (Pulumi.sandbox.yaml) against the emulator."""
    return make_stack("sandbox", env=fly_env)
