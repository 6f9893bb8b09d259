"""One toy stand-in on 127.0.0.1 for the session, reset before each test, with clients for its API and its
control surface."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.standin.toy import CONTROL, ToyServer


@pytest.fixture(scope="session")
def _server() -> Iterator[ToyServer]:
    with ToyServer() as server:
        yield server


@pytest.fixture
def toy(_server: ToyServer) -> ToyServer:
    _server.core.reset()
    _server.core.settings.latency = 0.0
    return _server


@pytest.fixture
def client(toy: ToyServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=toy.root_url + "/api", timeout=10) as c:
        yield c


@pytest.fixture
def control(toy: ToyServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=toy.root_url + CONTROL, timeout=10) as c:
        yield c
