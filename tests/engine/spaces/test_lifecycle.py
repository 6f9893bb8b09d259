"""A spaces stack under the real engine against the Hub stand-in: up, no-op preview and up, in-place changes,
a rebuild, a rotated secret, drift, a failed build, destroy."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from pulumi import automation as auto

from hub_emulator import HubEmulator
from lifecycle.hub_stand_in import SPACES_SANDBOX_TOKEN, SPACES_SANDBOX_USER
from tests.engine.spaces.conftest import BUCKET, SPACE, configure, destroy_leaves_nothing, hand, space, writes

pytestmark = pytest.mark.engine

SPACES = "pulumi-python:dynamic/spaces:"


def changes(result: auto.PreviewResult | auto.UpResult) -> dict[str, int]:
    summary = (
        result.change_summary if isinstance(result, auto.PreviewResult) else result.summary.resource_changes
    )
    return {str(op): n for op, n in (summary or {}).items() if str(op) not in ("same", "OpType.SAME") and n}


def test_up_creates_exactly_the_space_its_bucket_and_what_they_hold(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    up = stack.up(color="never")
    deployment = stack.export_stack().deployment or {}
    kinds = sorted(r["type"].removeprefix(SPACES) for r in deployment["resources"] if SPACES in r["type"])
    assert kinds == [
        "Bucket", "SongsNotice", "Space", "SpaceFiles", "SpaceRollout", "SpaceSecrets", "SpaceVariables", "SpaceVolumes"
    ]  # fmt: skip
    made = space(hub)
    runtime = made["runtime"]
    assert made["private"] is True
    assert (runtime["stage"], runtime["hardware"]["current"], runtime["gcTimeout"]) == (
        "RUNNING",
        "l40sx1",
        900,
    )
    assert runtime["sha"] == made["sha"]
    assert "Dockerfile" in made["files"]
    assert runtime["variables"]["SONGGEN_PLATFORM"] == "spaces"
    assert hub.secret_matches(SPACE, "HF_TOKEN", SPACES_SANDBOX_TOKEN)
    assert [v["mountPath"] for v in runtime["volumes"]] == [
        "/weights/runtime",
        "/weights/models/songgeneration_base",
        "/data",
    ]
    assert hub.state()["buckets"][BUCKET]["private"] is True
    assert hub.leftovers() == [f"space {SPACE} (RUNNING, l40sx1)", f"bucket {BUCKET}"]
    outputs = up.outputs
    assert outputs["url"].value == hub.space_host(SPACE)
    assert outputs["image"].value == f"{SPACE}@{made['sha']}"
    assert outputs["cost_usd"].value["per_running_hour"] == 1.8
    assert outputs["stores"].value[0]["id"] == BUCKET
    destroy_leaves_nothing(stack, hub)


def test_a_second_preview_shows_no_changes_and_a_second_up_writes_nothing(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    stack.up(color="never")
    hub.clear_requests()
    assert changes(stack.preview(color="never")) == {}
    up = stack.up(color="never")
    assert changes(up) == {}
    assert writes(hub) == []
    destroy_leaves_nothing(stack, hub)


def test_new_hardware_is_an_in_place_update_that_waits_for_the_restart(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    stack.up(color="never")
    before = space(hub)
    configure(stack, spaceHardware="a100-large")
    preview = stack.preview(color="never", diff=True)
    assert changes(preview) == {"update": 2}  # the Space and its rollout; nothing replaced
    stack.up(color="never")
    after = space(hub)
    assert after["runtime"]["hardware"] == {"current": "a100-large", "requested": "a100-large"}
    assert after["runtime"]["stage"] == "RUNNING"
    assert (after["commits"], after["runtime"]["builds"]) == (before["commits"], before["runtime"]["builds"])
    assert after["runtime"]["starts"] == before["runtime"]["starts"] + 1
    destroy_leaves_nothing(stack, hub)


def test_a_changed_build_context_is_committed_rebuilt_and_waited_for(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    stack.up(color="never")
    before = space(hub)
    requirements = stack.workspace.work_dir + "/docker/requirements.in"
    with open(requirements, "a") as handle:
        handle.write("# a change in the image's context\n")
    assert changes(stack.preview(color="never")) == {"update": 2}  # the files and the rollout
    up = stack.up(color="never")
    after = space(hub)
    assert after["commits"] == before["commits"] + 1
    assert after["runtime"]["builds"] == before["runtime"]["builds"] + 1
    assert after["runtime"]["stage"] == "RUNNING"
    assert after["runtime"]["sha"] == after["sha"] != before["sha"]
    assert up.outputs["image"].value == f"{SPACE}@{after['sha']}"
    destroy_leaves_nothing(stack, hub)


def test_a_rotated_token_reaches_the_space_which_restarts_and_its_value_shows_nowhere(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    stack.up(color="never")
    starts = space(hub)["runtime"]["starts"]
    rotated = "hf_rotated_sandbox_token_0042"
    hub.add_token(rotated, SPACES_SANDBOX_USER)
    stack.set_config("songgen-studio:hfToken", auto.ConfigValue(rotated, secret=True))
    lines: list[str] = []
    stack.up(color="never", on_output=lines.append)
    assert hub.secret_matches(SPACE, "HF_TOKEN", rotated)
    assert space(hub)["runtime"]["starts"] == starts + 1
    assert space(hub)["runtime"]["stage"] == "RUNNING"
    env = {**os.environ, **stack.workspace.env_vars}
    exported = subprocess.run(
        ["pulumi", "stack", "export", "--stack", stack.name],
        cwd=stack.workspace.work_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    state = exported + "".join(
        p.read_text() for p in Path(env["PULUMI_BACKEND_URL"].removeprefix("file://")).rglob("*.json")
    )
    assert "HF_TOKEN" in state  # the secret's name is kept, its value never
    for value in (rotated, SPACES_SANDBOX_TOKEN):
        assert value not in "".join(lines)
        assert value not in state
    destroy_leaves_nothing(stack, hub)


def test_a_space_deleted_outside_pulumi_is_seen_by_refresh_and_made_again_by_up_with_the_songs_kept(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    stack.up(color="never")
    hub.put_bucket_file(BUCKET, "output/first-song.flac", b"song")
    hand(hub).delete_repo(SPACE, repo_type="space")
    refresh = stack.refresh(color="never")
    # The Space and everything in it is gone from the state; the bucket, which lives on its own, is not.
    assert (refresh.summary.resource_changes or {}).get(auto.OpType.DELETE) == 6
    stack.up(color="never")
    assert space(hub)["runtime"]["stage"] == "RUNNING"
    assert hub.bucket_files(BUCKET) == {"output/first-song.flac": 4}
    destroy_leaves_nothing(stack, hub)


def test_a_first_build_that_fails_shows_the_log_tail_and_destroy_still_leaves_nothing(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    hub.fail_builds(SPACE, ["#12 ERROR: pip could not find torch==2.7.0+cu128"])
    with pytest.raises(auto.CommandError) as caught:
        stack.up(color="never")
    message = str(caught.value)
    assert "the Space stopped in BUILD_ERROR" in message
    assert "| #12 ERROR: pip could not find torch==2.7.0+cu128" in message
    assert "Traceback" not in message
    destroy_leaves_nothing(stack, hub)


def test_a_failed_rebuild_is_fixed_by_reverting_the_context(stack: auto.Stack, hub: HubEmulator) -> None:
    stack.up(color="never")
    requirements = stack.workspace.work_dir + "/docker/requirements.in"
    with open(requirements) as handle:
        original = handle.read()
    with open(requirements, "a") as handle:
        handle.write("no-such-package==0\n")
    hub.fail_builds(SPACE, ["ERROR: No matching distribution found for no-such-package==0"], times=1)
    with pytest.raises(auto.CommandError) as caught:
        stack.up(color="never")
    assert "| ERROR: No matching distribution found for no-such-package==0" in str(caught.value)
    with open(requirements, "w") as handle:
        handle.write(original)
    stack.up(color="never")
    assert space(hub)["runtime"]["stage"] == "RUNNING"
    assert space(hub)["runtime"]["sha"] == space(hub)["sha"]
    destroy_leaves_nothing(stack, hub)


def test_a_sleeping_space_takes_new_settings_without_being_woken(stack: auto.Stack, hub: HubEmulator) -> None:
    stack.up(color="never")
    hub.configure(sleep_time_scale=0.001)  # the 15 idle minutes pass in under a second
    deadline = time.monotonic() + 10
    while space(hub)["runtime"]["stage"] != "STOPPED":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    starts = space(hub)["runtime"]["starts"]
    configure(stack, models='["base", "base-new"]')
    lines: list[str] = []
    stack.up(color="never", on_output=lines.append)
    assert space(hub)["runtime"]["stage"] == "STOPPED"
    assert space(hub)["runtime"]["starts"] == starts
    assert space(hub)["runtime"]["variables"]["SONGGEN_MODELS"] == "base,base-new"
    assert "the new settings apply when it next starts" in "".join(lines)
    destroy_leaves_nothing(stack, hub)
