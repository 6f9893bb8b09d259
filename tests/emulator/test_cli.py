"""`python -m emulator` runs on its own, says it is an emulation, answers, and stops cleanly on signals."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.standin.processes import free_port, running, wait_until_up

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_module_runs_answers_and_stops_on_signal(stop_signal: signal.Signals) -> None:
    port = free_port()
    with running(
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
        ]
    ) as proc:
        root = f"http://127.0.0.1:{port}"
        wait_until_up(f"{root}/__emulator/health", proc, "the emulator")
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
