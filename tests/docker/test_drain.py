"""SONGGEN_DRAIN_SECONDS: SIGTERM lets the running song finish, within a limit, then stops the Studio as before."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.docker.conftest import Launch, process_env, write_state


def test_sigterm_waits_for_the_running_song_then_stops_the_studio(
    launch: Launch, base_env: dict[str, str], app_dir: Path
) -> None:
    write_state(app_dir, generations=[{"id": "g1", "status": "processing"}])
    run = launch(process_env(base_env, SONGGEN_DRAIN_SECONDS="30"), app_dir)
    run.wait_healthy()

    run.proc.send_signal(signal.SIGTERM)
    run.wait_for_line("draining: generation g1 is processing")
    time.sleep(1.0)
    assert run.running(), "the song keeps its machine"
    assert run.signals() == [], "the Studio has not been told to stop"

    write_state(app_dir, generations=[{"id": "g1", "status": "completed"}], queue=[{"id": "q1"}])
    run.wait_for_line("draining: 1 song(s) waiting in the queue")
    assert run.signals() == []

    write_state(app_dir, generations=[{"id": "g1", "status": "completed"}])
    done = time.monotonic()
    assert run.wait_exit(10) == 0
    assert time.monotonic() - done < 5
    assert run.signals() == ["SIGTERM"]
    assert "drained: nothing running or queued" in run.output()


def test_the_drain_ends_at_its_limit_and_the_studio_is_stopped_anyway(
    launch: Launch, base_env: dict[str, str], app_dir: Path
) -> None:
    write_state(app_dir, generations=[{"id": "g1", "status": "processing"}])
    run = launch(process_env(base_env, SONGGEN_DRAIN_SECONDS="1"), app_dir)
    run.wait_healthy()
    sent = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    assert run.wait_exit(10) == 0
    assert time.monotonic() - sent >= 1.0
    assert run.signals() == ["SIGTERM"]
    assert "drain time is over (generation g1 is processing)" in run.output()


def test_a_second_signal_cuts_the_drain_short(
    launch: Launch, base_env: dict[str, str], app_dir: Path
) -> None:
    write_state(app_dir, generations=[{"id": "g1", "status": "processing"}])
    run = launch(process_env(base_env, SONGGEN_DRAIN_SECONDS="60"), app_dir)
    run.wait_healthy()
    run.proc.send_signal(signal.SIGTERM)
    run.wait_for_line("draining:")
    run.proc.send_signal(signal.SIGINT)
    assert run.wait_exit(10) == 0
    assert run.signals() == ["SIGINT"]
    assert "drain cut short by another signal" in run.output()


def test_with_nothing_running_sigterm_stops_at_once(
    launch: Launch, base_env: dict[str, str], app_dir: Path
) -> None:
    write_state(app_dir)
    run = launch(process_env(base_env, SONGGEN_DRAIN_SECONDS="60"), app_dir)
    run.wait_healthy()
    sent = time.monotonic()
    assert run.terminate() == 0
    assert time.monotonic() - sent < 5
    assert run.signals() == ["SIGTERM"]
