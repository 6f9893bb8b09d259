"""Machine provider against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from components.dynamic.api_error import Subject
from components.fly.api import FlyClient
from components.fly.app import AppProvider
from components.fly.catalog import GPU_END_OF_LIFE
from components.fly.errors import Category, FlyApiError
from components.fly.machine import MachineProvider
from components.fly.volume import VolumeProvider
from components.fly.wait import wait_for_state
from emulator.server import FlyEmulator

from .conftest import IMAGE, ORG, OWNER, Flyctl, machine_config, new_run

APP = "songgen-mach"
NAME = "songgen-dev-ord-1"


@pytest.fixture
def app(emu: FlyEmulator) -> str:
    AppProvider().create({"name": APP, "org_slug": ORG, "owner": OWNER})
    return APP


def inputs(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "app_name": APP,
        "owner": OWNER,
        "name": NAME,
        "region": "ord",
        "config": machine_config(),
        "secrets_version": None,
        "wait_timeout_s": 10,
    }
    base.update(changes)
    checked = MachineProvider().check({}, base)
    assert checked.failures == []
    return checked.inputs


def create(props: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    result = MachineProvider().create(props or inputs())
    assert result.outs is not None
    return result.id, result.outs


def machines(emu: FlyEmulator) -> dict[str, Any]:
    return {k: v for k, v in emu.state()["machines"].items() if v["state"] != "destroyed"}


def test_machine_is_created_started_with_flyctl_metadata(emu: FlyEmulator, app: str) -> None:
    machine_id, outs = create()
    assert outs["machine_id"] == machine_id
    assert outs["state"] == "started"
    assert outs["instance_id"]
    assert outs["private_ip"].startswith("fdaa:")
    assert outs["region"] == "ord"
    live = machines(emu)[machine_id]
    assert live["name"] == NAME
    assert live["config"]["metadata"] == {
        "songgen_role": "studio",
        "songgen_owner": OWNER,
        "fly_platform_version": "v2",
        "fly_process_group": "app",
    }


def test_a_noop_preview_shows_no_diff_although_fly_echoes_defaults_and_boolean_autostop(
    emu: FlyEmulator, app: str
) -> None:
    machine_id, outs = create()
    echoed = machines(emu)[machine_id]["config"]
    assert echoed["services"][0]["autostop"] is False  # Fly's boolean echo of "off"
    refreshed = MachineProvider().read(machine_id, outs)
    assert refreshed.outs is not None
    assert not MachineProvider().diff(machine_id, refreshed.outs, inputs()).changes
    assert refreshed.inputs is not None
    assert refreshed.inputs["config"] == outs["config"]
    # As the engine sends them: every number a float.
    as_engine_sends = inputs(
        config=machine_config(guest={"cpu_kind": "shared", "cpus": 1.0, "memory_mb": 1024.0})
    )
    assert not MachineProvider().diff(machine_id, outs, as_engine_sends).changes


@pytest.mark.parametrize(
    "change",
    [
        {"image": "registry.fly.io/songgen-test:v2"},
        {"guest": {"cpu_kind": "shared", "cpus": 2, "memory_mb": 2048}},
        {"env": {"PORT": "7860", "MODEL": "base"}},
        {"metadata": {"songgen_role": "studio", "tier": "gold"}},
        {"restart": {"policy": "always"}},
    ],
)
def test_config_changes_update_the_machine_in_place_and_wait_for_it(
    emu: FlyEmulator, app: str, change: dict[str, Any]
) -> None:
    machine_id, outs = create()
    news = inputs(config=machine_config(**change))
    diff = MachineProvider().diff(machine_id, outs, news)
    assert diff.changed_keys == ["config"]
    assert diff.replaces == []
    updated = MachineProvider().update(machine_id, outs, news).outs
    assert updated is not None
    assert updated["machine_id"] == machine_id
    assert updated["state"] == "started"
    assert updated["instance_id"] != outs["instance_id"]
    live = machines(emu)[machine_id]
    for key, value in change.items():
        if key != "metadata":
            assert live["config"][key] == value
    assert list(machines(emu)) == [machine_id]


def test_a_new_secrets_version_updates_the_machine_so_it_picks_secrets_up(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    machine_id, outs = create()
    version = flyctl("POST", f"/apps/{APP}/secrets", {"values": {"HF_TOKEN": "x"}})["version"]
    news = inputs(secrets_version=float(version))  # the engine sends numbers as floats
    assert MachineProvider().diff(machine_id, outs, news).changed_keys == ["secrets_version"]
    MachineProvider().update(machine_id, outs, news)
    assert machines(emu)[machine_id]["min_secrets_version"] == version


@pytest.mark.parametrize(("change", "value"), [("region", "iad"), ("name", "songgen-dev-ord-2")])
def test_region_or_name_replaces_the_machine_deleting_the_old_first(
    emu: FlyEmulator, app: str, change: str, value: str
) -> None:
    machine_id, outs = create()
    diff = MachineProvider().diff(machine_id, outs, inputs(**{change: value}))
    assert diff.changed_keys == [change]
    assert diff.replaces == [change]
    assert diff.delete_before_replace


def test_wait_timeout_change_is_recorded_without_touching_the_machine(emu: FlyEmulator, app: str) -> None:
    machine_id, outs = create()
    news = inputs(wait_timeout_s=30)
    assert MachineProvider().diff(machine_id, outs, news).changed_keys == ["wait_timeout_s"]
    emu.clear_requests()
    MachineProvider().update(machine_id, outs, news)
    assert [r.method for r in emu.requests()] == ["GET"]


def test_machine_is_destroyed_and_a_second_delete_succeeds(emu: FlyEmulator, app: str) -> None:
    machine_id, outs = create()
    MachineProvider().delete(machine_id, outs)
    assert emu.state()["machines"][machine_id]["state"] == "destroyed"
    MachineProvider().delete(machine_id, outs)


def test_read_sees_an_image_and_env_changed_outside_pulumi(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    machine_id, outs = create()
    live = machines(emu)[machine_id]["config"]
    live["image"] = "registry.fly.io/songgen-test:hotfix"
    live["env"]["DEBUG"] = "1"
    flyctl("POST", f"/apps/{APP}/machines/{machine_id}", {"config": live})
    refreshed = MachineProvider().read(machine_id, outs)
    assert refreshed.inputs is not None
    assert refreshed.outs is not None
    assert refreshed.inputs["config"]["image"] == "registry.fly.io/songgen-test:hotfix"
    assert refreshed.inputs["config"]["env"] == {"PORT": "7860", "DEBUG": "1"}
    diff = MachineProvider().diff(machine_id, refreshed.outs, inputs())
    assert diff.changed_keys == ["config"]
    assert diff.replaces == []


def test_read_reports_a_machine_destroyed_outside_pulumi_as_gone(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    machine_id, outs = create()
    flyctl("DELETE", f"/apps/{APP}/machines/{machine_id}?force=true")
    assert not MachineProvider().read(machine_id, outs).id


def test_a_create_whose_answer_was_lost_adopts_the_machine_instead_of_making_two(
    emu: FlyEmulator, app: str
) -> None:
    emu.inject_fault(method="POST", path=f"/v1/apps/{APP}/machines", status=503, times=1, after=True)
    machine_id, outs = create()
    assert list(machines(emu)) == [machine_id]
    assert outs["state"] == "started"


def test_a_rerun_with_a_new_config_adopts_and_updates_the_machine_it_left(emu: FlyEmulator, app: str) -> None:
    first, _ = create()
    new_run()
    second, _ = create(inputs(config=machine_config(image="registry.fly.io/songgen-test:v2")))
    assert first == second
    assert list(machines(emu)) == [first]
    assert machines(emu)[first]["config"]["image"] == "registry.fly.io/songgen-test:v2"


def test_a_machine_of_the_same_name_not_made_by_pulumi_is_left_alone(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    flyctl("POST", f"/apps/{APP}/machines", {"name": NAME, "region": "ord", "config": {"image": IMAGE}})
    machine_id, _ = create()
    assert len(machines(emu)) == 2
    assert machines(emu)[machine_id]["config"]["metadata"]["songgen_owner"] == OWNER


def test_gpu_machine_is_rejected_with_the_end_of_life_explained(emu: FlyEmulator, app: str) -> None:
    gpu = {"cpu_kind": "performance", "cpus": 8, "memory_mb": 32768, "gpu_kind": "a10", "gpus": 1}
    with pytest.raises(FlyApiError) as caught:
        create(inputs(config=machine_config(guest=gpu)))
    err = caught.value
    assert err.status == 400
    assert err.category == Category.GPU
    assert GPU_END_OF_LIFE.isoformat() in str(err)
    assert "emulator" in str(err)
    assert f"machine {NAME}" in str(err)
    assert machines(emu) == {}


def test_gpu_machine_is_created_where_gpus_are_offered(emu: FlyEmulator, app: str) -> None:
    emu.set_gpus_offered(True)
    gpu = {"cpu_kind": "performance", "cpus": 8, "memory_mb": 32768, "gpu_kind": "a10", "gpus": 1}
    _, outs = create(inputs(config=machine_config(guest=gpu)))
    assert outs["state"] == "started"


def test_a_machine_that_crashes_on_boot_fails_the_wait_at_once(emu: FlyEmulator, app: str) -> None:
    emu.fail_image("registry.fly.io/songgen-test:broken")
    with pytest.raises(FlyApiError) as caught:
        create(inputs(config=machine_config(image="registry.fly.io/songgen-test:broken"), wait_timeout_s=2))
    assert "failed while waiting for it to be started" in str(caught.value)
    assert "fly logs" in str(caught.value)


def test_a_slow_boot_times_out_with_the_state_it_is_in(emu: FlyEmulator, app: str) -> None:
    emu.set_timing(boot_seconds=30)
    with pytest.raises(FlyApiError) as caught:
        create(inputs(wait_timeout_s=1))
    assert caught.value.category == Category.TIMEOUT
    assert "did not reach state started within 1 s" in str(caught.value)
    assert "starting" in str(caught.value)


def test_a_machine_meant_to_rest_when_idle_counts_as_ready_when_stopped(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    machine_id, _ = create()
    flyctl("POST", f"/apps/{APP}/machines/{machine_id}/stop")
    with FlyClient(Subject("machine", NAME)) as fly:
        machine = wait_for_state(fly, APP, machine_id, "started", timeout_s=5, also_accept=("stopped",))
    assert machine is not None
    assert machine["state"] == "stopped"


def test_a_lease_held_by_another_deploy_is_explained(emu: FlyEmulator, app: str, flyctl: Flyctl) -> None:
    machine_id, outs = create()
    flyctl("POST", f"/apps/{APP}/machines/{machine_id}/lease", {"ttl": 60})
    with pytest.raises(FlyApiError) as caught:
        MachineProvider().update(machine_id, outs, inputs(config=machine_config(image=f"{IMAGE}-2")))
    assert caught.value.category == Category.LEASE
    assert "Another deploy" in str(caught.value)


def test_volume_is_deleted_once_its_machine_has_let_go(emu: FlyEmulator, app: str) -> None:
    emu.set_timing(volume_detach_seconds=1.0)
    volume = VolumeProvider().create(
        {"app_name": APP, "name": "songgen_data", "region": "ord", "size_gb": 10, "encrypted": True}
    )
    config = machine_config(mounts=[{"volume": volume.id, "path": "/data"}])
    machine_id, outs = create(inputs(config=config))
    assert machines(emu)[machine_id]["config"]["mounts"][0]["volume"] == volume.id
    MachineProvider().delete(machine_id, outs)
    VolumeProvider().delete(volume.id, volume.outs or {})
    assert emu.billable() == [f"app {APP} (org {ORG})"]


def test_a_volume_a_live_machine_still_mounts_is_left_in_place_with_a_warning_naming_the_machine(
    emu: FlyEmulator, app: str, capfd: pytest.CaptureFixture[str]
) -> None:
    volume = VolumeProvider().create(
        {"app_name": APP, "name": "songgen_data", "region": "ord", "size_gb": 10, "encrypted": True}
    )
    machine_id, _ = create(inputs(config=machine_config(mounts=[{"volume": volume.id, "path": "/data"}])))
    VolumeProvider().delete(volume.id, volume.outs or {})
    assert volume.id in emu.state()["volumes"]
    warning = capfd.readouterr().err
    assert "still mounted by a machine of this stack that still uses it" in warning
    assert machine_id in warning
    assert "goes with the app on pulumi destroy" in warning


def test_a_whole_lifecycle_completes_under_fly_rate_limits(emu: FlyEmulator, app: str) -> None:
    emu.set_rate_limit(True)
    provider = MachineProvider()
    ids = [create(inputs(name=f"songgen-dev-ord-{n}"))[0] for n in range(1, 5)]
    assert len(machines(emu)) == 4
    assert any(r.status == 429 for r in emu.requests())  # Fly said "slow down" and was obeyed
    for machine_id in ids:
        provider.delete(machine_id, {"app_name": APP, "name": machine_id, "wait_timeout_s": 10})
    assert machines(emu) == {}


def test_growing_a_mounted_volume_says_the_machine_needs_a_restart(
    emu: FlyEmulator, app: str, capfd: pytest.CaptureFixture[str]
) -> None:
    props = {"app_name": APP, "name": "songgen_data", "region": "ord", "size_gb": 10, "encrypted": True}
    volume = VolumeProvider().create(props)
    create(inputs(config=machine_config(mounts=[{"volume": volume.id, "path": "/data"}])))
    grown = VolumeProvider().update(volume.id, volume.outs or {}, {**props, "size_gb": 20}).outs or {}
    assert grown["size_gb"] == 20
    assert grown["needs_restart"] is True
    assert "sees the new size after its next restart" in capfd.readouterr().err
