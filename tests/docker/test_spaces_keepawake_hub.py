"""End to end against the Hub stand-in: the entrypoint keeps a busy private Space awake past its sleep time
(the stand-in's sleep timer counts visits, as the Hub's is assumed to) and lets it sleep once idle."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from huggingface_hub import CommitOperationAdd, HfApi, SpaceHardware
from huggingface_hub.utils.tqdm import disable_progress_bars

from hub_emulator import HubEmulator
from tests.docker.conftest import Launch, process_env, write_state
from tests.docker.process import Entrypoint, seconds_as_minutes

SPACE = "alice/studio"
SLEEP_S = 1.5  # the Space's sleep time, in real seconds (60 s on the Hub's clock, scaled)
PING_S = 0.3
README = "---\ntitle: Studio\nsdk: docker\napp_port: 7860\n---\n"


@pytest.fixture
def hub() -> Iterator[HubEmulator]:
    disable_progress_bars()
    with HubEmulator(build_seconds=0.05, start_seconds=0.05, sleep_time_scale=SLEEP_S / 60) as server:
        server.add_user("alice")
        yield server


def running_private_space(hub: HubEmulator, token: str) -> None:
    """A private Space on paid hardware that sleeps after 60 (scaled) seconds without a visit, RUNNING."""
    api = HfApi(endpoint=hub.url, token=token)
    api.create_repo(
        SPACE, repo_type="space", space_sdk="docker", private=True,
        space_hardware=SpaceHardware.L40SX1, space_sleep_time=60,
    )  # fmt: skip
    files = {"Dockerfile": b"FROM python:3.11-slim\n", "README.md": README.encode()}
    operations = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=data) for p, data in files.items()]
    api.create_commit(SPACE, operations, commit_message="context", repo_type="space")
    deadline = time.monotonic() + 10
    while stage(hub) != "RUNNING":
        assert time.monotonic() < deadline, f"the Space never ran ({stage(hub)})"
        time.sleep(0.02)


def stage(hub: HubEmulator) -> str:
    found: str = hub.state()["spaces"][SPACE]["runtime"]["stage"]
    return found


def visits(hub: HubEmulator) -> list[tuple[int, bool]]:
    return [(r.status, r.authorized) for r in hub.requests() if r.kind == "visit"]


def launch_for(
    launch: Launch, base_env: dict[str, str], app_dir: Path, hub: HubEmulator, token: str | None
) -> Entrypoint:
    host = hub.space_host(SPACE)
    env = process_env(
        base_env,
        SONGGEN_PLATFORM="spaces",
        SPACE_HOST=urlsplit(host).netloc,  # what Spaces sets; the only host the token may go to
        SONGGEN_KEEPAWAKE_URL=host + "/",
        SONGGEN_KEEPAWAKE_SECONDS=str(PING_S),
        SONGGEN_IDLE_STOP_MINUTES=seconds_as_minutes(SLEEP_S),  # = the Space's sleep time
        **({"HF_TOKEN": token} if token else {}),
    )
    if token is None:
        env.pop("HF_TOKEN", None)  # not even one from the caller's environment
    run = launch(env, app_dir)
    run.wait_healthy()
    return run


def test_a_busy_private_space_stays_awake_past_its_sleep_time_and_sleeps_once_idle(
    hub: HubEmulator, launch: Launch, base_env: dict[str, str], app_dir: Path
) -> None:
    token = hub.new_token("alice", "read")  # a read token of the owner reaches a private Space
    running_private_space(hub, hub.new_token("alice"))
    write_state(app_dir, generations=[{"id": "g1", "status": "processing"}])
    run = launch_for(launch, base_env, app_dir, hub, token)

    time.sleep(SLEEP_S * 3)  # a song outlasting the sleep time several times over
    assert stage(hub) == "RUNNING"
    busy = visits(hub)
    assert len(busy) >= 5
    assert set(busy) == {(200, True)}

    write_state(app_dir, generations=[{"id": "g1", "status": "completed"}])
    run.wait_for_line("the Space's sleep timer runs from now")
    released = time.monotonic()
    deadline = released + SLEEP_S * 4
    while stage(hub) != "STOPPED":
        assert time.monotonic() < deadline, f"still {stage(hub)} long after the work ended"
        time.sleep(0.05)
    assert time.monotonic() - released >= SLEEP_S * 0.8, "slept only once the timer ran out"
    quiet = len(visits(hub))
    time.sleep(PING_S * 3)
    assert len(visits(hub)) == quiet, "no visit once idle: it would wake the Space"
    assert stage(hub) == "STOPPED"
    assert run.running(), "the entrypoint never exits on Spaces"
    assert run.terminate() == 0
    assert token not in run.output()


def test_without_the_token_a_private_space_would_sleep_in_the_middle_of_a_song(
    hub: HubEmulator, launch: Launch, base_env: dict[str, str], app_dir: Path
) -> None:
    running_private_space(hub, hub.new_token("alice"))
    write_state(app_dir, generations=[{"id": "g1", "status": "processing"}])
    run = launch_for(launch, base_env, app_dir, hub, None)
    deadline = time.monotonic() + SLEEP_S * 4
    while stage(hub) != "STOPPED":
        assert time.monotonic() < deadline, "a private Space answered visits without a token"
        time.sleep(0.05)
    assert set(visits(hub)) == {(404, False)}
    assert "a private Space needs HF_TOKEN" in run.output()
    assert run.terminate() == 0
