"""`python -m emulator` runs on its own, says it is an emulation, answers, and stops cleanly on signals."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the emulator exited early"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail("the emulator did not start within 15 s")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_module_runs_answers_and_stops_on_signal(stop_signal: signal.Signals) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--port",
            str(port),
            "--gpus",
            "--latency",
            "0",
            "--token",
            "cli-token",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        root = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{root}/__emulator/health", proc)
        headers = {"Authorization": "Bearer cli-token"}
        created = httpx.post(
            f"{root}/v1/apps", json={"name": "cli-app", "org_slug": "personal"}, headers=headers
        )
        assert created.status_code == 201
        assert (
            httpx.get(f"{root}/v1/apps/cli-app", headers={"Authorization": "Bearer wrong"}).status_code == 401
        )
        assert httpx.get(f"{root}/__emulator/settings").json()["gpus_offered"] is True
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "emulation" in out
    assert f"{root}/v1" in out
    assert "cli-token" not in out + err
    assert "emulator stopped" in out


def test_module_rejects_bad_arguments() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--latency", "-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "must not be negative" in result.stderr
