"""The entrypoint as a real process around a stand-in Studio: signals, exit codes, idle stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.docker.conftest import boot_command, boot_process_env, free_port, write_state
from tests.docker.process import get

Deadline = float


class Running:
    """An entrypoint process plus handles on what its stand-in Studio reports."""

    def __init__(self, proc: subprocess.Popen[str], app_dir: Path, port: int) -> None:
        self.proc = proc
        self.app_dir = app_dir
        self.port = port

    def signals(self) -> list[str]:
        path = self.app_dir / "signals.log"
        return path.read_text().split() if path.exists() else []

    def wait_healthy(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"entrypoint exited early: {self.output()}"
            if get(self.port, "/api/health") == 200:
                return
            time.sleep(0.05)
        raise AssertionError("the stand-in Studio never became healthy")

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"entrypoint still running after {timeout} s") from None

    def output(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stdout is not None
        return self.proc.stdout.read()


@pytest.fixture
def start(base_env: dict[str, str], app_dir: Path) -> Iterator[Callable[..., Running]]:
    procs: list[subprocess.Popen[str]] = []

    def _start(**env: str) -> Running:
        port = free_port()
        full = {
            **os.environ,
            **base_env,
            "SONGGEN_DOWNLOAD": "0",
            "SONGGEN_IDLE_POLL_SECONDS": "0.1",
            "SONGGEN_IDLE_STOP_MINUTES": "0",
            "PORT": str(port),
            **env,
        }
        proc = subprocess.Popen(
            boot_command(),
            env=boot_process_env(full),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        return Running(proc, app_dir, port)

    yield _start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def seconds_as_minutes(seconds: float) -> str:
    return f"{seconds / 60:.6f}"


@pytest.mark.parametrize(("signum", "child_code"), [(signal.SIGTERM, 0), (signal.SIGINT, 7)])
def test_signal_reaches_the_studio_and_its_exit_code_is_ours(
    start: Callable[..., Running], app_dir: Path, signum: signal.Signals, child_code: int
) -> None:
    write_state(app_dir, exit_code_on_signal=child_code)
    run = start()
    run.wait_healthy()

    run.proc.send_signal(signum)
    assert run.wait_exit(10) == child_code
    assert run.signals() == [signum.name]

    started = json.loads((app_dir / "started.json").read_text())
    assert started["argv"][1:] == ["--host", "127.0.0.1", "--port", str(run.port)]
    assert Path(started["cwd"]) == app_dir
    assert started["env"]["PYTHONPATH"].split(os.pathsep)[:2] == [
        str(app_dir),
        str(app_dir / "codeclm" / "tokenizer" / "Flow1dVAE"),
    ]
    assert started["env"]["PYTHONUTF8"] == "1"
    assert started["env"]["PORT"] == str(run.port)


def test_studio_crash_code_propagates(start: Callable[..., Running], app_dir: Path) -> None:
    write_state(app_dir, exit_after=0.5, exit_code=5)
    run = start()
    assert run.wait_exit(15) == 5
    assert "exited on its own (exit code 5)" in run.output()


def test_studio_that_ignores_sigterm_is_killed_after_the_grace_period(
    start: Callable[..., Running], app_dir: Path
) -> None:
    write_state(app_dir, ignore_term=True)
    run = start(SONGGEN_STOP_GRACE_SECONDS="1")
    run.wait_healthy()
    began = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    assert run.wait_exit(10) == 128 + signal.SIGKILL
    assert time.monotonic() - began >= 1.0
    assert run.signals() == ["SIGTERM"]


def test_idle_stop_fires_after_the_idle_period(start: Callable[..., Running], app_dir: Path) -> None:
    write_state(app_dir)
    run = start(SONGGEN_IDLE_STOP_MINUTES=seconds_as_minutes(1.0))
    run.wait_healthy()
    healthy_at = time.monotonic()
    assert run.wait_exit(10) == 0
    assert time.monotonic() - healthy_at >= 0.9
    assert run.signals() == ["SIGTERM"], "the Studio was stopped cleanly"
    out = run.output()
    assert "stopping the machine" in out
    assert "GET /api/queue" not in out, "the watcher's own polls are kept out of the log"


def test_idle_stop_never_fires_while_a_song_runs_or_waits(
    start: Callable[..., Running], app_dir: Path
) -> None:
    idle = 1.0
    write_state(app_dir, generations=[{"id": "g1", "status": "processing"}])
    run = start(SONGGEN_IDLE_STOP_MINUTES=seconds_as_minutes(idle))
    run.wait_healthy()

    time.sleep(idle * 2.5)
    assert run.proc.poll() is None, "stopped while a song was generating"

    write_state(app_dir, generations=[{"id": "g1", "status": "completed"}], queue=[{"id": "q1"}])
    time.sleep(idle * 2.5)
    assert run.proc.poll() is None, "stopped while a song waited in the queue"

    write_state(
        app_dir,
        generations=[{"id": "g1", "status": "completed"}],
        models=[{"id": "m", "status": "downloading"}],
    )
    time.sleep(idle * 2.5)
    assert run.proc.poll() is None, "stopped while a model was downloading"

    write_state(app_dir, generations=[{"id": "g1", "status": "completed"}])
    cleared_at = time.monotonic()
    assert run.wait_exit(10) == 0
    assert time.monotonic() - cleared_at >= idle * 0.9, "the idle period restarts after the work ends"
    assert run.signals() == ["SIGTERM"]


def test_user_requests_keep_the_machine_up_but_health_checks_do_not(
    start: Callable[..., Running], app_dir: Path
) -> None:
    idle = 1.0
    write_state(app_dir)
    run = start(SONGGEN_IDLE_STOP_MINUTES=seconds_as_minutes(idle))
    run.wait_healthy()

    # Requests from another loopback address stand in for Fly's proxy; the watcher polls from 127.0.0.1.
    until = time.monotonic() + idle * 2.5
    while time.monotonic() < until:
        assert get(run.port, "/", source="127.0.0.2") == 200
        time.sleep(0.2)
    assert run.proc.poll() is None, "stopped although a user was active"

    last_user_request = time.monotonic()
    while run.proc.poll() is None and time.monotonic() < last_user_request + 10:
        get(run.port, "/api/health", source="127.0.0.2")  # a health check is not a user
        time.sleep(0.2)
    assert run.wait_exit(1) == 0
    assert time.monotonic() - last_user_request >= idle * 0.9


def test_idle_stop_off_keeps_running(start: Callable[..., Running], app_dir: Path) -> None:
    write_state(app_dir)
    run = start(SONGGEN_IDLE_STOP_MINUTES="0")
    run.wait_healthy()
    time.sleep(1.0)
    assert run.proc.poll() is None
    run.proc.send_signal(signal.SIGTERM)
    assert run.wait_exit(10) == 0


def test_bad_configuration_exits_2_and_names_every_variable(start: Callable[..., Running]) -> None:
    run = start(SONGGEN_MODELS="base,huge", PORT="http", SONGGEN_IDLE_STOP_MINUTES="soon")
    assert run.wait_exit(10) == 2
    out = run.output()
    for name in ("SONGGEN_MODELS", "'huge'", "PORT", "SONGGEN_IDLE_STOP_MINUTES"):
        assert name in out


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to drop privileges")
def test_started_as_root_it_hands_the_volume_to_the_runtime_user_and_drops_to_it(
    app_dir: Path, base_env: dict[str, str]
) -> None:
    import pwd
    import shutil
    import tempfile

    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' user")
    root = Path(tempfile.mkdtemp(prefix="songgen-priv-", dir="/tmp"))
    try:
        root.chmod(0o755)
        app = root / "app"
        shutil.copytree(app_dir, app)
        for path in [app, *app.rglob("*")]:
            os.lchown(path, user.pw_uid, user.pw_gid)
        data = root / "data"
        data.mkdir()
        (data / "output").mkdir()
        (data / "output" / "old-song.flac").write_bytes(b"fLaC")  # root-owned leftovers
        env = {
            **os.environ,
            **base_env,
            "SONGGEN_APP_DIR": str(app),
            "SONGGEN_DATA_DIR": str(data),
            "SONGGEN_OVERLAY_DIR": str(root / "overlay"),
            "SONGGEN_RUN_AS": "nobody",
            "SONGGEN_DOWNLOAD": "0",
        }
        result = subprocess.run(
            [*boot_command(), "--prepare-only"],
            env=boot_process_env(env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "handing" in result.stdout
        for path in (data, data / "output" / "old-song.flac", data / "queue.json", data / "models"):
            assert path.stat().st_uid == user.pw_uid, path
        assert (app / "output").lstat().st_uid == user.pw_uid, "links made after the drop"
    finally:
        shutil.rmtree(root, ignore_errors=True)
