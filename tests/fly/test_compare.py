"""Semantic comparison: what Fly treats as the same compares equal; what a preview does not know yet differs."""

from __future__ import annotations

from pulumi.output import UNKNOWN

from components.fly.machine import MachineProvider, desired_config
from components.fly.provider import project, same, to_wire
from components.fly.volume import VolumeProvider

from .conftest import machine_config


def test_autostop_boolean_echo_equals_its_string_form() -> None:
    assert same({"services": [{"autostop": "stop"}]}, {"services": [{"autostop": True}]})
    assert same({"services": [{"autostop": "off"}]}, {"services": [{"autostop": False}]})
    assert not same({"services": [{"autostop": "suspend"}]}, {"services": [{"autostop": True}]})


def test_numbers_nulls_and_empties_compare_as_fly_sees_them() -> None:
    assert same({"cpus": 8}, {"cpus": 8.0})
    assert same({"env": {}, "image": "x"}, {"image": "x", "metadata": None})
    assert not same({"cpus": 8}, {"cpus": 8.5})
    assert to_wire({"guest": {"cpus": 8.0, "memory_mb": 2048.5}, "n": [1.0]}) == {
        "guest": {"cpus": 8, "memory_mb": 2048.5},
        "n": [1],
    }


def test_projection_hides_fly_defaults_but_shows_real_drift() -> None:
    desired = {"image": "a", "env": {"A": "1"}, "guest": {"cpus": 1}, "services": [{"autostop": "off"}]}
    echoed = {
        "image": "a",
        "env": {"A": "1"},
        "guest": {"cpus": 1, "cpu_kind": "shared", "memory_mb": 256},
        "services": [{"autostop": False, "force_instance_key": None}],
        "init": {"tty": False},
    }
    assert project(echoed, desired) == desired
    drifted = {**echoed, "image": "b", "env": {"A": "1", "B": "2"}}
    assert project(drifted, desired) == {**desired, "image": "b", "env": {"A": "1", "B": "2"}}
    assert project({"image": "a"}, desired)["image"] == "a"
    assert "env" not in project({"image": "a"}, desired)  # a key Fly lost is drift too


def test_check_in_preview_accepts_inputs_not_known_yet() -> None:
    machine = MachineProvider().check(
        {}, {"app_name": UNKNOWN, "owner": UNKNOWN, "name": "m", "region": "ord", "config": UNKNOWN}
    )
    assert machine.failures == []
    config = machine_config(mounts=[{"volume": UNKNOWN, "path": "/data"}])
    machine = MachineProvider().check(
        {}, {"app_name": "a", "owner": "o/p/s", "name": "m", "region": "ord", "config": config}
    )
    assert machine.failures == []
    assert machine.inputs["config"]["metadata"]["fly_platform_version"] == "v2"
    volume = VolumeProvider().check(
        {}, {"app_name": "a", "name": UNKNOWN, "region": "ord", "size_gb": UNKNOWN}
    )
    assert volume.failures == []


def test_platform_metadata_is_merged_and_the_caller_cannot_hide_the_machine_from_flyctl() -> None:
    config = {"image": "x", "metadata": {"fly_process_group": "worker", "role": "studio"}}
    merged = desired_config(config, "o/p/s")
    assert merged["metadata"] == {
        "role": "studio",
        "songgen_owner": "o/p/s",
        "fly_platform_version": "v2",
        "fly_process_group": "app",
    }
    assert desired_config(merged, "o/p/s") == merged  # merging twice changes nothing
