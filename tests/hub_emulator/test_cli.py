"""`python -m hub_emulator` runs on its own, says it is an emulation, serves HfApi with the tokens it wrote to
a file (never printed), and stops cleanly on signals."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi

from tests.standin.processes import free_port, running, wait_until_up

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_module_serves_hfapi_and_stops_on_signal(stop_signal: signal.Signals, tmp_path: Path) -> None:
    port, tokens = free_port(), tmp_path / "tokens"
    command = [sys.executable, "-m", "hub_emulator", "--port", str(port), "--build-seconds", "0.05"]
    command += [
        "--user",
        "alice:songgen",
        "--token",
        "alice:write",
        "--token",
        "alice:read",
        "--token-file",
        str(tokens),
    ]
    with running(command) as proc:
        root = f"http://127.0.0.1:{port}"
        wait_until_up(f"{root}/__hub/health", proc, "the stand-in")
        write, read = tokens.read_text().split()
        assert tokens.stat().st_mode & 0o077 == 0
        api = HfApi(endpoint=root, token=write)
        assert api.whoami()["orgs"][0]["name"] == "songgen"
        api.create_repo("songgen/studio", repo_type="space", space_sdk="docker")
        assert HfApi(endpoint=root, token=read).get_space_runtime("songgen/studio").stage == "NO_APP_FILE"
        assert httpx.get(f"{root}/__hub/settings").json()["build_seconds"] == 0.05
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "emulation" in out
    assert f"endpoint:    {root}" in out
    assert write not in out + err
    assert read not in out + err
    assert "Hub stand-in stopped" in out


def test_module_rejects_bad_arguments() -> None:
    for args, message in (
        (["--build-seconds", "-1"], "must not be negative"),
        (["--token", "alice:write"], "needs --token-file"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "hub_emulator", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2
        assert message in result.stderr
