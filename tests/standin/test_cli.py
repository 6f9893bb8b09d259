"""A stand-in's entry point listens on loopback by default and stops cleanly, status 0, on SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys

import pytest

from standin.cli import add_listen_arguments
from tests.standin.processes import free_port, running, wait_until_up

pytestmark = pytest.mark.timeout(60)


def test_the_listen_arguments_default_to_loopback_and_the_stand_ins_port() -> None:
    parser = argparse.ArgumentParser()
    add_listen_arguments(parser, port=4321)
    assert vars(parser.parse_args([])) == {"host": "127.0.0.1", "port": 4321}
    assert parser.parse_args(["--port", "5"]).port == 5


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_signal_stops_the_server_and_the_process_exits_cleanly(stop_signal: signal.Signals) -> None:
    port = free_port()
    with running([sys.executable, "-m", "tests.standin.toy_cli", "--port", str(port)]) as proc:
        wait_until_up(f"http://127.0.0.1:{port}/__toy/health", proc, "the toy")
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert out.splitlines() == [f"toy listening on 127.0.0.1:{port}", "toy stopped"]
