"""Fixtures for the Spaces providers: one Hub stand-in on 127.0.0.1 for the session, reset before each test,
with the weight repos seeded and a user whose write token the providers find in HF_TOKEN, as in a deploy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.utils.tqdm import disable_progress_bars

from components.dynamic import retry
from components.platforms import load_settings
from components.spaces import hub as hub_client
from components.spaces.settings import SpacesSettings
from hub_emulator import HubEmulator
from lifecycle.hub_stand_in import seed_weight_repos

NAMESPACE = "alice"
OWNER = "organization/songgen-studio/dev"
OTHER_OWNER = "organization/songgen-studio/staging"
FAST: dict[str, Any] = {
    "build_seconds": 0.05,
    "start_seconds": 0.05,
    "sleep_time_scale": 1.0,
    "log_idle_seconds": 0.2,
    "latency": 0.0,
}


@dataclass
class Account:
    token: str  # write token of alice
    read_token: str
    api: HfApi  # another hand on alice's account, as the Hub's web UI would act
    weights: dict[str, str]  # weight repo -> its commit


@pytest.fixture(scope="session")
def _server() -> Iterator[HubEmulator]:
    disable_progress_bars()
    with HubEmulator(**FAST) as hub:
        yield hub


@pytest.fixture
def hub(_server: HubEmulator) -> HubEmulator:
    _server.reset()
    _server.configure(**FAST)
    return _server


@pytest.fixture
def account(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    hub.add_user(NAMESPACE, orgs=["songgen"])
    hub.add_user("bob")
    token = hub.new_token(NAMESPACE)
    weights = seed_weight_repos(hub)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", token)
    # Short retry budgets: a test of a give-up must not wait the real 90 s.
    monkeypatch.setattr(retry, "DEFAULT_BACKOFF", retry.Backoff(base_s=0.05, cap_s=0.2, budget_s=3.0))
    hub.clear_requests()
    yield Account(token, hub.new_token(NAMESPACE, "read"), HfApi(endpoint=hub.url, token=token), weights)
    hub_client.forget_stack_config()


def spaces_settings(stack: str = "dev", **raw: Any) -> SpacesSettings:
    """A Spaces stack's settings as the program loads them (hfToken as a secret)."""
    config = {"platform": "spaces", "hfNamespace": NAMESPACE, "hfToken": "hf_from_config", **raw}
    settings = load_settings(stack, config, secret_keys={"hfToken"}).settings
    assert isinstance(settings, SpacesSettings)
    return settings


def writes(hub: HubEmulator) -> list[str]:
    """Every request that could change something on the Hub (visits to a Space's host aside)."""
    return [f"{r.method} {r.path}" for r in hub.requests() if r.method != "GET" and r.kind != "visit"]
