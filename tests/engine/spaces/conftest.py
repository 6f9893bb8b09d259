"""Fixtures and views for the real-engine Spaces tests: a Hub stand-in per test, the sandbox-spaces stack and its
names, and views of the stand-in's state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.utils.tqdm import disable_progress_bars
from pulumi import automation as auto

from components.spaces.bucket import bucket_name
from hub_emulator import HubEmulator
from lifecycle.hub_stand_in import SPACES_SANDBOX_TOKEN, SPACES_SANDBOX_USER, STACK, seed_weight_repos
from tests.engine.conftest import StackFactory

SPACE = f"{SPACES_SANDBOX_USER}/songgen-studio-{STACK}"
OWNER = f"organization/songgen-studio/{STACK}"
BUCKET = f"{SPACES_SANDBOX_USER}/{bucket_name(OWNER)}"
STACK_FILE = (Path(__file__).resolve().parents[3] / f"Pulumi.{STACK}.yaml").read_text()
TEAM = "songgen-team"  # an organisation the sandbox user belongs to


@pytest.fixture
def hub() -> Iterator[HubEmulator]:
    disable_progress_bars()
    with HubEmulator(build_seconds=0.2, start_seconds=0.1, log_idle_seconds=0.3) as server:
        server.add_user(SPACES_SANDBOX_USER, orgs=[TEAM])
        server.add_token(SPACES_SANDBOX_TOKEN, SPACES_SANDBOX_USER)
        seed_weight_repos(server)
        yield server


@pytest.fixture
def hub_env(hub: HubEmulator) -> dict[str, str]:
    # An empty HF_TOKEN: the providers take the stack's hfToken secret, as a deploy without the variable does.
    return {"HF_ENDPOINT": hub.url, "HF_TOKEN": ""}


@pytest.fixture
def stack(make_stack: StackFactory, hub_env: dict[str, str]) -> auto.Stack:
    """The sandbox-spaces stack (Pulumi.sandbox-spaces.yaml) against the Hub stand-in."""
    return make_stack(STACK, env=hub_env)


def hand(hub: HubEmulator) -> HfApi:
    """Another hand on the same account, as the Hub's web pages would act."""
    return HfApi(endpoint=hub.url, token=SPACES_SANDBOX_TOKEN)


def configure(stack: auto.Stack, **values: str) -> None:
    for key, value in values.items():
        stack.set_config(f"songgen-studio:{key}", auto.ConfigValue(value))


def space(hub: HubEmulator, space_id: str = SPACE) -> dict[str, Any]:
    found: dict[str, Any] = hub.state()["spaces"][space_id]
    return found


def writes(hub: HubEmulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in hub.requests() if r.method != "GET" and r.kind != "visit"]


def destroy_leaves_nothing(stack: auto.Stack, hub: HubEmulator) -> None:
    stack.destroy(color="never")
    assert hub.billable() == []
    assert hub.leftovers() == []
