"""The lifecycle users run — up, preview, refresh, destroy — under the real engine against the emulator."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

import httpx
import pytest
from pulumi import automation as auto

from emulator import FlyEmulator
from tests.engine.fly_stack import (
    APP,
    PREBUILT,
    configure,
    destroy_leaves_nothing_billable,
    machines,
    volumes,
    writes,
)

pytestmark = pytest.mark.engine


def test_up_creates_exactly_the_expected_resources(stack: auto.Stack, emulator: FlyEmulator) -> None:
    result = stack.up(color="never")

    state = emulator.state()
    assert list(state["apps"]) == [APP]
    assert sorted(ip["type"] for ip in state["ips"]) == ["shared_v4", "v6"]
    (volume,) = volumes(emulator)
    assert (volume["name"], volume["region"], volume["size_gb"], volume["encrypted"]) == (
        "cache_ord_1",
        "ord",
        50,
        True,
    )
    assert volume["compute"]["gpu_kind"] == "a10"
    (machine,) = machines(emulator)
    assert machine["state"] == "started"
    config = machine["config"]
    assert config["image"] == PREBUILT
    assert config["guest"] == {
        "cpu_kind": "performance",
        "cpus": 8,
        "memory_mb": 65536,
        "gpu_kind": "a10",
        "gpus": 1,
    }
    assert config["mounts"][0]["volume"] == volume["id"]
    assert config["mounts"][0]["path"] == "/data"
    assert config["metadata"]["fly_platform_version"] == "v2"
    assert config["metadata"]["fly_process_group"] == "app"
    assert config["services"][0]["checks"][0]["path"] == "/api/health"

    outputs = result.outputs
    assert outputs["url"].value == f"https://{APP}.fly.dev"
    assert outputs["machines"].value == [{"id": machine["id"], "region": "ord"}]
    assert outputs["volumes"].value == [volume["id"]]
    assert outputs["image"].value == PREBUILT
    assert outputs["cost_usd"].value["per_running_hour"] == pytest.approx(1.4284)
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_second_preview_shows_no_changes_and_a_second_up_writes_nothing(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    stack.up(color="never")
    preview = stack.preview(color="never")
    assert {op for op, n in preview.change_summary.items() if n} == {auto.OpType.SAME}
    emulator.clear_requests()
    stack.up(color="never")
    assert writes(emulator) == []
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_memory_or_image_change_updates_the_machine_in_place_and_keeps_the_volume(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    stack.up(color="never")
    (before,) = machines(emulator)
    (volume,) = volumes(emulator)
    emulator.set_volume_data(APP, volume["id"], {"songs": ["first-song.flac"]})

    configure(stack, memoryMb="49152")
    stack.up(color="never")
    (after_memory,) = machines(emulator)
    assert after_memory["id"] == before["id"]
    assert after_memory["instance_id"] != before["instance_id"]
    assert after_memory["config"]["guest"]["memory_mb"] == 49152
    assert after_memory["state"] == "started"

    configure(stack, image="registry.fly.io/songgen-studio-sandbox:v2")
    stack.up(color="never")
    (after_image,) = machines(emulator)
    assert after_image["id"] == before["id"]
    assert after_image["config"]["image"] == "registry.fly.io/songgen-studio-sandbox:v2"
    assert [v["id"] for v in volumes(emulator)] == [volume["id"]]
    assert emulator.volume_data(APP, volume["id"]) == {"songs": ["first-song.flac"]}
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_larger_cache_extends_the_volume_in_place(stack: auto.Stack, emulator: FlyEmulator) -> None:
    stack.up(color="never")
    (volume,) = volumes(emulator)
    configure(stack, volumeSizeGb="80")
    emulator.clear_requests()
    stack.up(color="never")
    (grown,) = volumes(emulator)
    assert (grown["id"], grown["size_gb"]) == (volume["id"], 80)
    assert f"PUT /v1/apps/{APP}/volumes/{volume['id']}/extend" in writes(emulator)
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_smaller_cache_is_refused_before_anything_changes(stack: auto.Stack, emulator: FlyEmulator) -> None:
    configure(stack, volumeSizeGb="80")
    stack.up(color="never")
    configure(stack, volumeSizeGb="60")
    emulator.clear_requests()
    with pytest.raises(auto.CommandError) as caught:
        stack.up(color="never")
    assert "shrink" in str(caught.value)
    assert writes(emulator) == []
    assert volumes(emulator)[0]["size_gb"] == 80
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_region_change_replaces_machine_and_volume_never_leaving_a_machine_without_its_volume(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    configure(stack, gpuKind="a100-sxm4-80gb", primaryRegion="iad")
    stack.up(color="never")
    (old_machine,) = machines(emulator)
    (old_volume,) = volumes(emulator)

    configure(stack, primaryRegion="sjc")
    emulator.clear_requests()
    stack.up(color="never")

    (machine,) = machines(emulator)
    (volume,) = volumes(emulator)
    assert (machine["region"], volume["region"]) == ("sjc", "sjc")
    assert machine["config"]["mounts"][0]["volume"] == volume["id"]
    assert old_volume["id"] not in {v["id"] for v in volumes(emulator)}
    order = writes(emulator)
    created_volume = order.index(f"POST /v1/apps/{APP}/volumes")
    created_machine = order.index(f"POST /v1/apps/{APP}/machines")
    deleted_machine = order.index(f"DELETE /v1/apps/{APP}/machines/{old_machine['id']}")
    deleted_volume = order.index(f"DELETE /v1/apps/{APP}/volumes/{old_volume['id']}")
    assert created_volume < created_machine  # the new machine is created with its volume
    assert deleted_machine < deleted_volume  # the old volume goes only after its machine
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_gpu_kind_change_moves_the_machine_to_a_new_volume_before_the_old_one_goes(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    stack.up(color="never")
    (machine,) = machines(emulator)
    (old_volume,) = volumes(emulator)

    configure(stack, gpuKind="l40s")
    emulator.clear_requests()
    stack.up(color="never")

    (moved,) = machines(emulator)
    (volume,) = volumes(emulator)
    assert moved["id"] == machine["id"]  # updated in place, not replaced
    assert moved["config"]["guest"]["gpu_kind"] == "l40s"
    assert volume["id"] != old_volume["id"]
    assert volume["compute"]["gpu_kind"] == "l40s"
    assert moved["config"]["mounts"][0]["volume"] == volume["id"]
    order = writes(emulator)
    created = order.index(f"POST /v1/apps/{APP}/volumes")
    remounted = order.index(f"POST /v1/apps/{APP}/machines/{machine['id']}")
    deleted = order.index(f"DELETE /v1/apps/{APP}/volumes/{old_volume['id']}")
    assert created < remounted < deleted
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_new_hf_token_reaches_the_machines(stack: auto.Stack, emulator: FlyEmulator) -> None:
    stack.up(color="never")
    (before,) = machines(emulator)
    stack.set_config(
        "songgen-studio:hfToken", auto.ConfigValue("hf_first_" + secrets.token_hex(8), secret=True)
    )
    stack.up(color="never")
    app_secrets = emulator.state()["apps"][APP]["secrets"]
    assert [s["name"] for s in app_secrets["secrets"]] == ["HF_TOKEN"]
    (after,) = machines(emulator)
    assert after["id"] == before["id"]
    assert after["min_secrets_version"] == app_secrets["version"]

    stack.set_config(
        "songgen-studio:hfToken", auto.ConfigValue("hf_second_" + secrets.token_hex(8), secret=True)
    )
    stack.up(color="never")
    rotated = emulator.state()["apps"][APP]["secrets"]["version"]
    assert rotated > app_secrets["version"]
    (again,) = machines(emulator)
    assert again["min_secrets_version"] == rotated
    assert again["instance_id"] != after["instance_id"]
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_machine_and_volume_deleted_outside_pulumi_are_reported_by_refresh_and_recreated_by_up(
    stack: auto.Stack, emulator: FlyEmulator, fly_token: str
) -> None:
    stack.up(color="never")
    (machine,) = machines(emulator)
    (volume,) = volumes(emulator)
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": f"FlyV1 {fly_token}"}) as fly:
        fly.delete(f"/apps/{APP}/machines/{machine['id']}", params={"force": "true"}).raise_for_status()
        fly.get(f"/apps/{APP}/machines/{machine['id']}/wait", params={"state": "destroyed", "timeout": 10})
        fly.delete(f"/apps/{APP}/volumes/{volume['id']}").raise_for_status()

    refresh = stack.refresh(color="never")
    assert refresh.summary.resource_changes is not None
    assert refresh.summary.resource_changes.get(auto.OpType.DELETE) == 2

    stack.up(color="never")
    (recreated,) = machines(emulator)
    (new_volume,) = volumes(emulator)
    assert recreated["id"] != machine["id"]
    assert recreated["config"]["mounts"][0]["volume"] == new_volume["id"]
    destroy_leaves_nothing_billable(stack, emulator)


def test_an_up_interrupted_after_the_volume_exists_converges_on_the_next_up(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    emulator.inject_fault(method="POST", path=rf"/v1/apps/{APP}/machines", status=503, times=50)
    with pytest.raises(auto.CommandError) as caught:
        stack.up(color="never")
    message = str(caught.value)
    assert "studio-ord-1" in message
    assert "503" in message
    assert len(volumes(emulator)) == 1
    assert machines(emulator) == []

    emulator.clear_faults()
    stack.up(color="never")
    assert len(volumes(emulator)) == 1
    assert len(machines(emulator)) == 1
    assert len(emulator.state()["ips"]) == 2
    destroy_leaves_nothing_billable(stack, emulator)


def test_without_gpus_up_stops_at_the_machine_with_the_end_of_life_message_and_destroy_cleans_up(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    emulator.set_gpus_offered(False)
    lines: list[str] = []
    with pytest.raises(auto.CommandError) as caught:
        stack.up(color="never", on_output=lines.append)
    message = str(caught.value)
    assert "2026-08-01" in message
    assert "GPU" in message
    assert "400" in message
    assert any("stopped offering GPU Machines" in line for line in lines)  # said before anything was created
    assert list(emulator.state()["apps"]) == [APP]
    assert len(volumes(emulator)) == 1
    assert machines(emulator) == []
    destroy_leaves_nothing_billable(stack, emulator)


def test_no_secret_value_appears_in_the_state_or_the_engine_output(
    stack: auto.Stack, emulator: FlyEmulator, fly_token: str
) -> None:
    hf_token = "hf_" + secrets.token_hex(16)
    stack.set_config("songgen-studio:hfToken", auto.ConfigValue(hf_token, secret=True))
    lines: list[str] = []
    stack.up(color="never", on_output=lines.append)
    stack.preview(color="never", on_output=lines.append, diff=True)
    stack.refresh(color="never", on_output=lines.append)
    env = {**os.environ, **stack.workspace.env_vars}
    exported = subprocess.run(
        ["pulumi", "stack", "export", "--stack", stack.name],
        cwd=stack.workspace.work_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(exported)["deployment"]["resources"]
    backend = Path(env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    state_files = "".join(p.read_text() for p in backend.rglob("*.json"))
    config_file = (Path(stack.workspace.work_dir) / "Pulumi.sandbox.yaml").read_text()
    for secret in (hf_token, fly_token):
        assert secret not in exported
        assert secret not in state_files
        assert secret not in "".join(lines)
        assert secret not in config_file
        assert all(secret not in json.dumps(r.as_dict()) for r in emulator.requests())
    destroy_leaves_nothing_billable(stack, emulator)
