"""Spaces: keep the Space awake only while work runs, never exit on idle, start as uid 1000 without root."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tests.docker.conftest import (
    BASE_ID,
    OVERLAY_FILE,
    PATCHED_APPLY,
    Boot,
    Launch,
    own,
    process_env,
    set_read_only,
    tree_snapshot,
    write_overlay,
    write_state,
    write_weights,
)
from tests.docker.fake_space_host import SpaceHost
from tests.docker.process import Unprivileged, get, seconds_as_minutes

TOKEN = "hf_keepawake_test_token_5150"


def test_pings_carry_the_token_only_to_the_space_host_over_https_or_loopback(boot: Boot) -> None:
    may = boot.keepawake.token_may_go_to
    assert may("https://me-studio.hf.space/", "me-studio.hf.space")
    assert may("https://ME-studio.hf.space/x?y=1", "me-studio.hf.space")
    assert not may("https://elsewhere.example/", "me-studio.hf.space")
    assert not may("http://me-studio.hf.space/", "me-studio.hf.space"), "never in clear text"
    assert not may("https://me-studio.hf.space:8443/", "me-studio.hf.space")
    assert not may("https://me-studio.hf.space/", None)
    assert may("http://127.0.0.1:8000/", "127.0.0.1:8000"), "loopback stand-ins for tests"
    assert boot.keepawake.ping_url("https://a.hf.space") == "https://a.hf.space/?songgen-keepawake=1"
    assert (
        boot.keepawake.ping_url("https://a.hf.space/x?y=1") == "https://a.hf.space/x?y=1&songgen-keepawake=1"
    )


def test_a_ping_to_another_host_goes_without_the_token(boot: Boot) -> None:
    with SpaceHost() as space:
        settings = boot.config.KeepAwakeSettings(
            url=space.url, period_seconds=1.0, space_host="me-studio.hf.space"
        )
        boot.keepawake.SpacePinger(settings, TOKEN, timeout=5)()
        (visit,) = space.snapshot()
    assert visit.authorization is None
    assert visit.path == "/?songgen-keepawake=1"


def test_own_pings_coming_back_through_the_proxy_are_not_user_activity(boot: Boot) -> None:
    line = 'INFO:     10.16.3.7:40312 - "GET /?songgen-keepawake=1 HTTP/1.1" 200 OK'
    assert boot.idle_stop.classify_log_line(line, ["/api/health"]) == (False, True)


def test_keep_awake_pings_while_held_once_more_on_release_then_stays_quiet(boot: Boot) -> None:
    pings: list[float] = []
    keep = boot.keepawake.KeepAwake(lambda: pings.append(time.monotonic()), period=0.05)
    keep.start()
    try:
        time.sleep(0.2)
        assert pings == [], "nothing while nothing runs"
        keep.hold("generation g1 is processing")
        time.sleep(0.3)
        held = len(pings)
        assert held >= 3
        keep.release()
        time.sleep(0.1)
        assert len(pings) == held + 1, "one last visit, so the sleep timer starts when the work ends"
        time.sleep(0.3)
        assert len(pings) == held + 1
    finally:
        keep.close()
        keep.join(timeout=5)
    assert not keep.is_alive()


def test_spaces_keeps_the_space_awake_while_a_song_runs_or_waits_and_lets_it_sleep_once_idle(
    launch: Launch, base_env: dict[str, str], app_dir: Path
) -> None:
    idle = 1.0
    env = process_env(base_env)
    write_state(app_dir, generations=[{"id": "g1", "status": "processing"}])
    with SpaceHost(studio_port=int(env["PORT"])) as space:
        run = launch(
            {
                **env,
                "SONGGEN_PLATFORM": "spaces",
                "SPACE_HOST": space.host,
                "SONGGEN_KEEPAWAKE_URL": space.url,
                "SONGGEN_KEEPAWAKE_SECONDS": "0.2",
                "SONGGEN_IDLE_STOP_MINUTES": seconds_as_minutes(idle),
                "HF_TOKEN": TOKEN,
            },
            app_dir,
        )
        run.wait_healthy()
        time.sleep(1.5)
        while_running = space.snapshot()
        assert len(while_running) >= 4, "pings while the song generates"
        assert {v.authorization for v in while_running} == {f"Bearer {TOKEN}"}
        assert {v.path for v in while_running} == {"/?songgen-keepawake=1"}
        assert {v.studio_status for v in while_running} == {200}, "they reach the Studio through the proxy"

        write_state(app_dir, generations=[{"id": "g1", "status": "completed"}], queue=[{"id": "q1"}])
        time.sleep(1.0)
        assert len(space.snapshot()) >= len(while_running) + 3, "pings while a song waits in the queue"

        write_state(app_dir, generations=[{"id": "g1", "status": "completed"}])
        run.wait_for_line("the Space's sleep timer runs from now")
        quiet_from = settled(space)  # after the last visit
        time.sleep(idle * 2.5)
        assert len(space.snapshot()) == quiet_from, "no pings once idle"
        assert run.running(), "never exits on its own"

        # A user asks the Studio to load a model (a request from outside), then leaves: loading is work.
        write_state(
            app_dir,
            generations=[{"id": "g1", "status": "completed"}],
            models=[{"id": BASE_ID, "status": "ready", "warmth": "loading"}],
        )
        assert get(run.port, "/", source="127.0.0.3") == 200
        run.wait_for("pings for the model load", lambda: len(space.snapshot()) > quiet_from + 2)

        assert run.terminate() == 0
    out = run.output()
    assert "model songgeneration_base is loading" in out
    assert "songgen-keepawake" not in out, "its own pings are kept out of the Studio's log"
    assert TOKEN not in out


def settled(space: SpaceHost, quiet: float = 0.6, timeout: float = 10.0) -> int:
    """The number of visits once none has come for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    count = len(space.snapshot())
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = len(space.snapshot())
        if now == count:
            return count
        count = now
    raise AssertionError("the visits never stopped")


def test_a_spaces_shaped_start_as_uid_1000_serves_without_root(
    launch: Launch, scratch: Path, unprivileged: Unprivileged, app_dir: Path, base_env: dict[str, str]
) -> None:
    """Weights mounted read-only, songs on a bucket, everything else on local disk, and no root at all."""
    weights = write_weights(scratch / "weights")
    overlay = write_overlay(scratch / "overlay")
    app, bucket, local = scratch / "app", scratch / "bucket", scratch / "local"
    shutil.copytree(app_dir, app)
    for writable in (app, bucket, local):
        writable.mkdir(exist_ok=True)
        own(writable, unprivileged)
    set_read_only(weights, True)
    before = tree_snapshot(weights)
    env = process_env(
        base_env,
        HOME=str(scratch),
        SONGGEN_PLATFORM="spaces",
        SONGGEN_APP_DIR=str(app),
        SONGGEN_DATA_DIR=str(bucket),
        SONGGEN_DATA_BUCKET="1",
        SONGGEN_LOCAL_DIR=str(local),
        SONGGEN_CACHE_DIR=str(local / "cache"),
        SONGGEN_OVERLAY_DIR=str(overlay),
        SONGGEN_WEIGHTS_DIR=str(weights),
        SONGGEN_PYTHON=unprivileged.python,
        SONGGEN_RUN_AS="songgen",  # the image's default: a no-op when not started as root
    )
    run = launch(env, app, unprivileged)
    run.wait_healthy()
    assert (app / OVERLAY_FILE).read_bytes() == PATCHED_APPLY
    assert (app / BASE_ID / "model.pt").is_file()
    assert run.terminate() == 0

    assert "handing" not in run.output(), "no ownership changes without root"
    assert tree_snapshot(weights) == before
    assert [p for p in bucket.rglob("*") if p.is_symlink()] == []
    made = [p for p in [*bucket.rglob("*"), *local.rglob("*")] if not p.is_symlink()]
    assert made
    assert {p.stat().st_uid for p in made} == {unprivileged.uid}
    assert unprivileged.uid != 0
