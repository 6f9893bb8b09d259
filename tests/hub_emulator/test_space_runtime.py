"""The Space stage machine as get_space_runtime and fetch_space_logs see it: build, start, sleep, wake, pause,
restart, hardware changes, and failures a test planned."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, SpaceHardware
from huggingface_hub.errors import BadRequestError

from hub_emulator import HubEmulator
from tests.hub_emulator.conftest import SPACE
from tests.hub_emulator.helpers import create_space, deploy, push_context, wait_stage

pytestmark = pytest.mark.timeout(60)


def _stages(api: HfApi, until: str, timeout: float = 5.0) -> list[str]:
    """Every distinct stage seen while polling until `until` (bounded)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stage = api.get_space_runtime(SPACE).stage
        if not seen or seen[-1] != stage:
            seen.append(stage)
        if stage == until:
            return seen
        time.sleep(0.005)
    raise AssertionError(f"never reached {until}: {seen}")


def test_a_commit_builds_then_starts_the_space(hub: HubEmulator, api: HfApi, tmp_path: Path) -> None:
    hub.configure(build_seconds=0.3, start_seconds=0.3)  # long enough for every stage to be seen
    create_space(api, space_hardware="l40sx1")
    sha = push_context(api, tmp_path / "ctx")
    assert _stages(api, "RUNNING") == ["BUILDING", "APP_STARTING", "RUNNING"]
    runtime = api.get_space_runtime(SPACE)
    assert (runtime.hardware, runtime.requested_hardware) == ("l40sx1", "l40sx1")
    assert runtime.raw["sha"] == sha
    build_log = list(api.fetch_space_logs(SPACE, build=True))
    assert build_log[0].startswith("===== Build Queued")
    assert "--> 2/3 RUN pip install fastapi uvicorn\n" in build_log
    assert any(line.startswith("===== Application Startup") for line in api.fetch_space_logs(SPACE))


def test_wait_for_space_returns_at_the_first_settled_stage(api: HfApi, tmp_path: Path) -> None:
    create_space(api)
    push_context(api, tmp_path / "ctx")
    assert api.wait_for_space(SPACE, timeout=5, poll_interval=0.02).stage == "RUNNING"


def test_a_space_without_a_dockerfile_is_never_running(hub: HubEmulator, api: HfApi, tmp_path: Path) -> None:
    create_space(api)
    api.upload_file(path_or_fileobj=b"print(1)\n", path_in_repo="main.py", repo_id=SPACE, repo_type="space")
    assert api.get_space_runtime(SPACE).stage == "NO_APP_FILE"
    with pytest.raises(BadRequestError, match="NO_APP_FILE"):
        api.restart_space(SPACE)
    api.request_space_hardware(SPACE, SpaceHardware.A10G_SMALL)
    time.sleep(0.15)
    assert api.get_space_runtime(SPACE).stage == "NO_APP_FILE"
    assert hub.billable() == []


def test_a_readme_without_docker_configuration_is_a_config_error(api: HfApi, tmp_path: Path) -> None:
    create_space(api)
    (tmp_path / "ctx").mkdir()
    push_context(api, tmp_path / "ctx")
    api.upload_file(
        path_or_fileobj=b"# no front matter\n", path_in_repo="README.md", repo_id=SPACE, repo_type="space"
    )
    runtime = api.get_space_runtime(SPACE)
    assert runtime.stage == "CONFIG_ERROR"
    assert "Missing configuration" in runtime.raw["errorMessage"]


def test_a_planned_build_failure_ends_in_build_error_with_its_log(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    create_space(api)
    hub.fail_builds(SPACE, ["ERROR: pip install failed", "No matching distribution for torch==9.9"], times=1)
    push_context(api, tmp_path / "ctx")
    runtime = wait_stage(api, "BUILD_ERROR")
    assert runtime.hardware is None
    assert "Build error" in runtime.raw["errorMessage"]
    log = list(api.fetch_space_logs(SPACE, build=True))
    assert "No matching distribution for torch==9.9\n" in log
    assert log[-1].startswith("ERROR: failed to build")
    # The plan was for one build: a restart rebuilds and now succeeds.
    api.restart_space(SPACE)
    wait_stage(api, "RUNNING")


def test_a_planned_start_failure_ends_in_runtime_error_with_its_run_log(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    create_space(api)
    hub.fail_starts(SPACE, ["Traceback (most recent call last):", "CUDA out of memory"])
    push_context(api, tmp_path / "ctx")
    wait_stage(api, "RUNTIME_ERROR")
    assert "CUDA out of memory\n" in list(api.fetch_space_logs(SPACE))
    hub.clear_failures(SPACE)
    hub.configure(start_seconds=0.3)
    assert api.restart_space(SPACE).stage == "APP_STARTING"
    wait_stage(api, "RUNNING")
    assert hub.state()["spaces"][SPACE]["runtime"]["builds"] == 1  # a restart reuses the image


def test_a_commit_to_a_running_space_keeps_the_old_app_serving_while_it_builds(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    old = deploy(api, tmp_path / "ctx")
    hub.configure(build_seconds=0.4, start_seconds=0.4)
    new = push_context(api, tmp_path / "ctx", extra="v2\n")
    assert api.get_space_runtime(SPACE).stage == "RUNNING_BUILDING"
    served = httpx.get(
        hub.space_host(SPACE) + "/api/health", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert served.status_code == 200
    assert served.json()["sha"] == old
    assert _stages(api, "RUNNING")[-2:] == ["RUNNING_APP_STARTING", "RUNNING"]
    assert api.get_space_runtime(SPACE).raw["sha"] == new


def test_an_idle_space_falls_asleep_after_its_sleep_time_and_bills_nothing(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    deploy(api, tmp_path / "ctx", space_hardware="a10g-small", space_sleep_time=300)
    assert hub.billable() == ["space alice/studio (a10g-small, RUNNING, $1.00/h)"]
    hub.configure(sleep_time_scale=0.001)  # now 300 s of sleep time last 0.3 s
    runtime = wait_stage(api, "STOPPED")
    assert runtime.sleep_time == 300
    assert runtime.hardware is None
    assert hub.billable() == []
    assert hub.leftovers() == ["space alice/studio (STOPPED, a10g-small)"]


def test_paid_hardware_never_sleeps_by_default_and_cpu_basic_sleeps_after_48_hours(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    create_space(api, space_hardware="l4x1")
    assert api.get_space_runtime(SPACE).sleep_time is None
    api.set_space_sleep_time(SPACE, 3600)
    assert api.get_space_runtime(SPACE).sleep_time == 3600
    api.set_space_sleep_time(SPACE, -1)
    assert api.get_space_runtime(SPACE).sleep_time is None
    create_space(api, "alice/free")
    with pytest.warns(UserWarning, match="48 hours"):
        assert api.set_space_sleep_time("alice/free", 600).sleep_time == 48 * 3600


def test_pause_stops_the_space_until_the_owner_restarts_it(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    deploy(api, tmp_path / "ctx", space_hardware="l40sx1")
    assert api.pause_space(SPACE).stage == "PAUSED"
    visit = httpx.get(hub.space_host(SPACE), headers={"Authorization": f"Bearer {api.token}"})
    assert visit.status_code == 503
    assert api.get_space_runtime(SPACE).stage == "PAUSED"
    assert hub.billable() == []
    push_context(api, tmp_path / "ctx", extra="while paused\n")
    assert api.get_space_runtime(SPACE).stage == "PAUSED"  # a commit does not unpause
    assert api.restart_space(SPACE).stage == "BUILDING"  # the new commit was never built
    wait_stage(api, "RUNNING")


def test_a_hardware_change_restarts_a_running_space_on_the_new_flavor(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    deploy(api, tmp_path / "ctx", space_hardware="a10g-small")
    runtime = api.request_space_hardware(SPACE, SpaceHardware.A100_LARGE, sleep_time=900)
    assert (runtime.stage, runtime.requested_hardware, runtime.hardware) == (
        "APP_STARTING",
        "a100-large",
        None,
    )
    runtime = wait_stage(api, "RUNNING")
    assert (runtime.hardware, runtime.sleep_time) == ("a100-large", 900)
    assert hub.state()["spaces"][SPACE]["runtime"]["builds"] == 1


def test_factory_restart_rebuilds_and_a_plain_restart_does_not(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    deploy(api, tmp_path / "ctx")
    assert api.restart_space(SPACE).stage == "APP_STARTING"
    wait_stage(api, "RUNNING")
    assert api.restart_space(SPACE, factory_reboot=True).stage == "BUILDING"
    wait_stage(api, "RUNNING")
    assert hub.state()["spaces"][SPACE]["runtime"]["builds"] == 2


def test_the_app_output_a_test_writes_shows_in_the_run_log(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    deploy(api, tmp_path / "ctx")
    hub.append_run_log(SPACE, ["generation 1/1 done", "idle"])
    assert list(api.fetch_space_logs(SPACE))[-2:] == ["generation 1/1 done\n", "idle\n"]


def test_a_live_build_log_streams_lines_as_they_are_printed(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    hub.configure(build_seconds=1.0)
    create_space(api)
    push_context(api, tmp_path / "ctx")
    started = time.monotonic()
    lines = list(api.fetch_space_logs(SPACE, build=True, follow=True))
    assert lines[-1] == "--> Pushing image\n"  # printed 0.8 s into the build
    assert time.monotonic() - started >= 0.4  # it waited for lines printed later in the build
