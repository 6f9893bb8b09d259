"""The Space's host: visits are logged, keep a Space awake, wake a sleeping one, and respect privacy."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi

from hub_emulator import HubEmulator
from tests.hub_emulator.conftest import SPACE, People
from tests.hub_emulator.helpers import create_space, deploy, wait_stage

pytestmark = pytest.mark.timeout(60)


def _visit(hub: HubEmulator, token: str | None, path: str = "/api/health") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(hub.space_host(SPACE) + path, headers=headers, timeout=5)


def test_a_visit_to_a_running_space_is_served_and_logged(
    hub: HubEmulator, people: People, api: HfApi, tmp_path: Path
) -> None:
    sha = deploy(api, tmp_path / "ctx")
    response = _visit(hub, None, "/api/health?probe=1")
    assert response.status_code == 200
    assert response.json() == {
        "space": SPACE,
        "stage": "RUNNING",
        "path": "/api/health",
        "sha": sha,
        "method": "GET",
    }
    visits = [r for r in hub.requests() if r.kind == "visit"]
    assert [(r.space, r.path, r.status, r.authorized) for r in visits] == [
        (SPACE, "/__spaces/alice-studio/api/health", 200, False)
    ]
    assert hub.state()["spaces"][SPACE]["runtime"]["visits"] == 1


def test_a_private_space_answers_only_its_owner_or_organisation(
    hub: HubEmulator, people: People, api: HfApi, tmp_path: Path
) -> None:
    deploy(api, tmp_path / "ctx", private=True)
    assert _visit(hub, None).status_code == 404
    assert _visit(hub, people.bob).status_code == 404
    assert _visit(hub, "hf_unknown").status_code == 401
    assert _visit(hub, people.alice_read).status_code == 200  # a read token of the owner is enough
    assert _visit(hub, people.alice).status_code == 200


def test_a_space_that_is_not_running_answers_503(hub: HubEmulator, people: People, api: HfApi) -> None:
    create_space(api)
    response = _visit(hub, people.alice)
    assert response.status_code == 503
    assert response.json()["stage"] == "NO_APP_FILE"
    assert api.get_space_runtime(SPACE).stage == "NO_APP_FILE"


def test_visits_keep_a_space_awake_past_its_sleep_time(
    hub: HubEmulator, people: People, api: HfApi, tmp_path: Path
) -> None:
    hub.configure(sleep_time_scale=0.001)  # 500 s of sleep time last 0.5 s
    deploy(api, tmp_path / "ctx", space_hardware="a10g-large", space_sleep_time=500)
    for _ in range(10):  # 1 s in all, never 0.5 s without a visit
        time.sleep(0.1)
        assert _visit(hub, people.alice).status_code == 200
    assert api.get_space_runtime(SPACE).stage == "RUNNING"
    wait_stage(api, "STOPPED")


def test_a_visit_wakes_a_sleeping_space(hub: HubEmulator, people: People, api: HfApi, tmp_path: Path) -> None:
    hub.configure(sleep_time_scale=0.001)
    deploy(api, tmp_path / "ctx", space_hardware="l40sx1", space_sleep_time=300)
    wait_stage(api, "STOPPED")
    hub.configure(start_seconds=0.5)  # time to look at the Space while it starts
    waking = _visit(hub, people.alice)
    assert waking.status_code == 503
    assert waking.json()["error"] == "This Space is waking up"
    assert api.get_space_runtime(SPACE).stage == "APP_STARTING"
    assert hub.billable() == ["space alice/studio (l40sx1, APP_STARTING, $1.80/h)"]
    wait_stage(api, "RUNNING")
    assert _visit(hub, people.alice).status_code == 200
    assert hub.state()["spaces"][SPACE]["runtime"]["builds"] == 1  # waking restarts, it does not rebuild


def test_visits_to_a_deleted_space_are_404(
    hub: HubEmulator, people: People, api: HfApi, tmp_path: Path
) -> None:
    deploy(api, tmp_path / "ctx")
    api.delete_repo(SPACE, repo_type="space")
    assert _visit(hub, people.alice).status_code == 404
    assert hub.billable() == []
    assert hub.leftovers() == []
