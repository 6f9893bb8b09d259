"""Progress lines reach the engine's Log service when running as the plugin, stderr otherwise, and never fail."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from components.dynamic import progress
from components.fly.app import AppProvider
from components.fly.machine import MachineProvider
from emulator.server import FlyEmulator

from .conftest import ORG, OWNER, machine_config


class Engine(engine_pb2_grpc.EngineServicer):
    """A stand-in for the Pulumi engine's Log endpoint that keeps what it is sent."""

    def __init__(self) -> None:
        self.logs: list[Any] = []

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802 - gRPC method name
        self.logs.append(request)
        return empty_pb2.Empty()


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    servicer = Engine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # How the engine starts a provider plugin: flags, then its own address.
    monkeypatch.setattr(
        "sys.argv", ["pulumi-dynamic", "--tracing", "http://127.0.0.1:1/x", f"127.0.0.1:{port}"]
    )
    progress.reset()
    yield servicer
    progress.reset()
    server.stop(None)


def test_engine_address_is_the_first_positional_argument() -> None:
    assert progress.engine_address(["127.0.0.1:5000"]) == "127.0.0.1:5000"
    assert progress.engine_address(["-v=9", "--tracing", "http://x:1", "localhost:41"]) == "localhost:41"
    assert progress.engine_address(["tests/fly"]) is None
    assert progress.engine_address([]) is None


def test_status_lines_go_to_the_engine_as_ephemeral_info(
    engine: Engine, capfd: pytest.CaptureFixture[str]
) -> None:
    progress.status("machine m: waiting for state started (40 s of 600 s)")
    progress.info("volume v: extended")
    progress.warn("gpu")
    assert [(m.message, m.ephemeral) for m in engine.logs] == [
        ("machine m: waiting for state started (40 s of 600 s)", True),
        ("volume v: extended", False),
        ("gpu", False),
    ]
    assert [m.severity for m in engine.logs] == [engine_pb2.INFO, engine_pb2.INFO, engine_pb2.WARNING]
    assert capfd.readouterr().err == ""


def test_a_machine_deploy_says_what_it_waits_for(engine: Engine, emu: FlyEmulator) -> None:
    AppProvider().create({"name": "songgen-progress", "org_slug": ORG, "owner": OWNER})
    props = {
        "app_name": "songgen-progress",
        "owner": OWNER,
        "name": "songgen-dev-ord-1",
        "region": "ord",
        "wait_timeout_s": 600,
    }
    MachineProvider().create(MachineProvider().check({}, {**props, "config": machine_config()}).inputs)
    waits = [m.message for m in engine.logs if m.ephemeral]
    assert "machine songgen-dev-ord-1: waiting for state started (0 s of 600 s)" in waits
    assert any(m.message.startswith("machine songgen-dev-ord-1: created") for m in engine.logs)


def test_without_an_engine_lines_go_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    progress.status("machine m: waiting for state started (1 s of 5 s)")
    assert "machine m: waiting for state started (1 s of 5 s)" in capfd.readouterr().err


def test_an_unreachable_engine_never_fails_the_deploy(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr("sys.argv", ["pulumi-dynamic", f"127.0.0.1:{port}"])
    progress.reset()
    progress.info("app a: created")
    assert "app a: created" in capfd.readouterr().err
