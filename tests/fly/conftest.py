"""Provider tests run against the bundled Fly API emulator, a real HTTP server on 127.0.0.1.

Each test module starts one emulator; each test gets it reset to a clean state with default switches (nothing
is shared between tests), the environment pointing the client at it, a fast backoff, and no stack config left
over from another test.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from components.dynamic import progress, retry
from components.dynamic.retry import Backoff
from components.fly import credentials, provider
from emulator.server import FlyEmulator

# A macaroon-shaped token, fresh per run: its prefix makes the client use the FlyV1 scheme.
TOKEN = "fm2_" + secrets.token_urlsafe(32)
ORG = "personal"
# The owner id a stack passes to its resources: organization/project/stack.
OWNER = "organization/songgen-studio/test"
IMAGE = "registry.fly.io/songgen-test:v1"


BOOT_S = 0.05
# Each call's retry budget in these tests: long enough for a Retry-After of 1 s, short enough to fail fast.
BUDGET_S = 3.0
TRANSITION_S = 0.02


@pytest.fixture(scope="module")
def _emulator() -> Iterator[FlyEmulator]:
    with FlyEmulator(token=TOKEN, boot_seconds=BOOT_S, transition_seconds=TRANSITION_S) as emulator:
        yield emulator


@pytest.fixture
def emu(_emulator: FlyEmulator, monkeypatch: pytest.MonkeyPatch) -> FlyEmulator:
    _emulator.reset()
    _emulator.set_gpus_offered(False)
    _emulator.set_latency(0.0)
    _emulator.set_rate_limit(False)
    _emulator.set_timing(boot_seconds=BOOT_S, transition_seconds=TRANSITION_S, volume_detach_seconds=0.0)
    monkeypatch.setenv(credentials.URL_ENV, _emulator.base_url)
    monkeypatch.setenv(credentials.TOKEN_ENV, TOKEN)
    return _emulator


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(credentials.URL_ENV, raising=False)
    monkeypatch.delenv(credentials.TOKEN_ENV, raising=False)
    monkeypatch.setattr(retry, "DEFAULT_BACKOFF", Backoff(base_s=0.01, cap_s=0.05, budget_s=BUDGET_S))
    credentials.forget_stack_config()
    provider.forget_listings()
    progress.reset()
    yield
    credentials.forget_stack_config()
    provider.forget_listings()
    progress.reset()


def new_run() -> None:
    """What a new `pulumi up` starts with: a fresh provider process, so no listing taken by an earlier run."""
    provider.forget_listings()


class Flyctl:
    """Another hand on the same Fly account: changes made outside Pulumi, as flyctl would make them."""

    def __init__(self, emulator: FlyEmulator) -> None:
        self._http = httpx.Client(
            base_url=emulator.base_url, headers={"Authorization": f"FlyV1 {TOKEN}"}, timeout=10.0
        )

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def close(self) -> None:
        self._http.close()


@pytest.fixture
def flyctl(emu: FlyEmulator) -> Iterator[Flyctl]:
    client = Flyctl(emu)
    yield client
    client.close()


def machine_config(image: str = IMAGE, **extra: Any) -> dict[str, Any]:
    """A small CPU machine config in the shape SongGenStudio builds (services, checks, restart)."""
    config: dict[str, Any] = {
        "image": image,
        "env": {"PORT": "7860"},
        "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 1024},
        "services": [
            {
                "protocol": "tcp",
                "internal_port": 7860,
                "autostop": "off",
                "autostart": True,
                "min_machines_running": 0,
                "ports": [
                    {"port": 80, "handlers": ["http"], "force_https": True},
                    {"port": 443, "handlers": ["tls", "http"]},
                ],
                "checks": [
                    {"type": "http", "port": 7860, "path": "/api/health", "interval": "15s", "timeout": "5s"}
                ],
            }
        ],
        "restart": {"policy": "on-failure", "max_retries": 3},
        "metadata": {"songgen_role": "studio"},
    }
    config.update(extra)
    return config
