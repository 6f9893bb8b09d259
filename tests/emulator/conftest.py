"""Fixtures: one real emulator on 127.0.0.1 for the session, reset to a clean slate before each test,
and httpx clients that talk to it like a Fly client and like an out-of-process tool."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator import FlyEmulator

TOKEN = "fm2_test-token-value"
# Fast transitions keep every wait well under a second.
BOOT_SECONDS = 0.05
TRANSITION_SECONDS = 0.02


@pytest.fixture(scope="session")
def _server() -> Iterator[FlyEmulator]:
    with FlyEmulator(boot_seconds=BOOT_SECONDS, transition_seconds=TRANSITION_SECONDS) as emulator:
        yield emulator


@pytest.fixture
def emu(_server: FlyEmulator) -> FlyEmulator:
    # Starting a server per test costs more than the tests; a reset plus default switches isolates them.
    _server.reset()
    _server.set_gpus_offered(False)
    _server.set_latency(0.0)
    _server.set_rate_limit(False)
    _server.set_timing(
        boot_seconds=BOOT_SECONDS, transition_seconds=TRANSITION_SECONDS, volume_detach_seconds=0.0
    )
    return _server


@pytest.fixture
def client(emu: FlyEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as c:
        yield c


@pytest.fixture
def control(emu: FlyEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.control_url, timeout=10) as c:
        yield c
