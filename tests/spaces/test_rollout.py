"""The rollout against the Hub stand-in: each kind of change applied the way it needs, then a bounded wait
until RUNNING, with the build or run log's tail when the Space fails."""

from __future__ import annotations

import time
from typing import Any

import pytest
from huggingface_hub import SpaceHardware

from components.dynamic.errors import ProviderError
from components.spaces.rollout import SpaceRolloutProvider
from hub_emulator import HubEmulator
from tests.spaces.conftest import Account, spaces_settings, writes
from tests.spaces.steps import deploy, out_of, rollout_props

SPACE = "alice/songgen-studio-dev"
RESTART = f"POST /api/spaces/{SPACE}/restart"


def runtime(hub: HubEmulator) -> dict[str, Any]:
    found: dict[str, Any] = hub.state()["spaces"][SPACE]["runtime"]
    return found


def wait_for(hub: HubEmulator, stage: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while runtime(hub)["stage"] != stage:
        assert time.monotonic() < deadline, f"still {runtime(hub)['stage']}"
        time.sleep(0.05)


def test_a_deploy_waits_until_the_space_runs_the_new_commit_and_says_each_stage(
    hub: HubEmulator, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    outs = deploy()
    assert outs["rollout"]["stage"] == "RUNNING"
    assert outs["rollout"]["running_sha"] == outs["files"]["commit"] == runtime(hub)["sha"]
    said = capsys.readouterr().err
    assert f"space {SPACE}: BUILDING" in said
    assert f"space {SPACE}: RUNNING after" in said


def test_a_failed_build_ends_the_wait_with_the_build_logs_tail(hub: HubEmulator, account: Account) -> None:
    hub.fail_builds(
        SPACE,
        [
            "Step 7/12 : RUN pip install -r requirements.lock.txt",
            "ERROR: No matching distribution for torch==9.9",
        ],
    )
    with pytest.raises(ProviderError) as caught:
        deploy()
    message = str(caught.value)
    first, *tail = message.splitlines()
    assert first.startswith(
        f"Hugging Face Hub error for space {SPACE} (wait until running): the Space stopped in BUILD_ERROR: "
        "Build error: failed to build the image."
    )
    assert "The image did not build" in first
    assert "  | ERROR: No matching distribution for torch==9.9" in tail
    assert "Traceback" not in message


def test_a_crash_at_start_ends_the_wait_with_the_run_logs_tail(hub: HubEmulator, account: Account) -> None:
    hub.fail_starts(SPACE, ["songgen_boot: SONGGEN_WEIGHTS_DIR=/weights has no runtime/ckpt"])
    with pytest.raises(ProviderError) as caught:
        deploy()
    assert "the Space stopped in RUNTIME_ERROR" in str(caught.value)
    assert "  | songgen_boot: SONGGEN_WEIGHTS_DIR=/weights has no runtime/ckpt" in str(caught.value)


def test_new_secrets_restart_a_running_space_and_wait(hub: HubEmulator, account: Account) -> None:
    outs = deploy()
    starts = runtime(hub)["starts"]
    hub.clear_requests()
    news = rollout_props(spaces_settings(), outs, secrets_version=2)
    after = out_of(SpaceRolloutProvider().update(SPACE, outs["rollout"], news))
    assert after["stage"] == "RUNNING"
    assert RESTART in writes(hub)
    assert runtime(hub)["starts"] == starts + 1
    assert runtime(hub)["builds"] == 1


def test_new_settings_leave_a_sleeping_space_asleep(
    hub: HubEmulator, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    outs = deploy()
    hub.configure(sleep_time_scale=0.001)  # 900 s of sleep time pass in 0.9 s
    wait_for(hub, "STOPPED")
    hub.clear_requests()
    news = rollout_props(spaces_settings(), outs, env={**outs["rollout"]["env"], "SONGGEN_MODELS": "large"})
    SpaceRolloutProvider().update(SPACE, outs["rollout"], news)
    assert writes(hub) == []
    assert runtime(hub)["stage"] == "STOPPED"
    assert "the new settings apply when it next starts (it is not woken for them)" in capsys.readouterr().err


def test_new_pins_rebuild_the_image(hub: HubEmulator, account: Account) -> None:
    outs = deploy()
    news = rollout_props(
        spaces_settings(), outs, build_args={"STUDIO_COMMIT": "a" * 40, "TENCENT_COMMIT": "b" * 40}
    )
    SpaceRolloutProvider().update(SPACE, outs["rollout"], news)
    assert runtime(hub)["builds"] == 2
    assert runtime(hub)["stage"] == "RUNNING"


def test_new_hardware_is_waited_for_without_a_restart_of_our_own(hub: HubEmulator, account: Account) -> None:
    outs = deploy()
    account.api.request_space_hardware(
        SPACE, SpaceHardware.A100_LARGE
    )  # what space.py does before the rollout
    hub.clear_requests()
    news = rollout_props(spaces_settings(), outs, hardware="a100-large")
    assert out_of(SpaceRolloutProvider().update(SPACE, outs["rollout"], news))["stage"] == "RUNNING"
    assert writes(hub) == []
    assert runtime(hub)["hardware"]["current"] == "a100-large"


def test_a_new_sleep_time_alone_neither_restarts_nor_waits(hub: HubEmulator, account: Account) -> None:
    outs = deploy()
    hub.clear_requests()
    SpaceRolloutProvider().update(
        SPACE, outs["rollout"], rollout_props(spaces_settings(), outs, sleep_seconds=60)
    )
    assert [r for r in hub.requests() if r.path.endswith("/runtime")] != []
    assert writes(hub) == []


def test_a_build_that_outlasts_the_wait_says_which_setting_to_raise(
    hub: HubEmulator, account: Account
) -> None:
    outs = deploy()
    hub.configure(build_seconds=60)
    news = rollout_props(spaces_settings(), outs, build_args={"STUDIO_COMMIT": "a" * 40}, wait_timeout_s=0.5)
    with pytest.raises(ProviderError) as caught:
        SpaceRolloutProvider().update(SPACE, outs["rollout"], news)
    assert "the Space is still BUILDING after 0 s" in str(caught.value)
    assert "raise songgen-studio:spaceWaitMinutes" in str(caught.value)


def test_delete_pauses_the_space_so_nothing_bills_while_the_rest_goes(
    hub: HubEmulator, account: Account
) -> None:
    outs = deploy()
    assert hub.billable() != []
    SpaceRolloutProvider().delete(SPACE, outs["rollout"])
    assert runtime(hub)["stage"] == "PAUSED"
    assert [b for b in hub.billable() if b.startswith("space")] == []
