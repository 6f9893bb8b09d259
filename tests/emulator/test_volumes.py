"""Volumes: defaults, validation, grow-only extend, forks and restores, and the bound-volume rule."""

from __future__ import annotations

import time

import httpx
import pytest

from emulator import FlyEmulator
from tests.emulator.helpers import (
    APP,
    REGION,
    create_app,
    create_machine,
    create_volume,
    machine_config,
    wait_ok,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _app(client: httpx.Client) -> None:
    create_app(client)


def _mounted(volume_id: str) -> dict[str, object]:
    return machine_config(mounts=[{"volume": volume_id, "path": "/data"}])


def test_create_defaults_and_shape(client: httpx.Client) -> None:
    response = client.post(f"/apps/{APP}/volumes", json={"name": "models", "region": REGION})
    assert response.status_code == 200
    volume = response.json()
    assert volume["id"].startswith("vol_")
    assert len(volume["id"]) == 20
    assert volume["size_gb"] == 3
    assert volume["encrypted"] is True
    assert volume["state"] == "created"
    assert volume["attached_machine_id"] is None
    assert volume["snapshot_retention"] == 5
    assert client.get(f"/apps/{APP}/volumes").json() == [volume]


@pytest.mark.parametrize(
    "payload",
    [
        {"region": REGION},
        {"name": "model-cache", "region": REGION},  # hyphens are not allowed in volume names
        {"name": "x" * 31, "region": REGION},
        {"name": "Models", "region": REGION},
        {"name": "models"},
        {"name": "models", "region": "mars"},
        {"name": "models", "region": REGION, "size_gb": 0},
        {"name": "models", "region": REGION, "size_gb": 501},
        {"name": "models", "region": REGION, "size_gb": "10"},
        {"name": "models", "region": REGION, "encrypted": "yes"},
        {"name": "models", "region": REGION, "fstype": "zfs"},
    ],
)
def test_invalid_volume_requests_are_400(client: httpx.Client, payload: dict[str, object]) -> None:
    response = client.post(f"/apps/{APP}/volumes", json=payload)
    assert response.status_code == 400, response.text
    assert "error" in response.json()


def test_extend_grows_only_up_to_500_gb(client: httpx.Client) -> None:
    volume = create_volume(client, size_gb=10)
    path = f"/apps/{APP}/volumes/{volume['id']}/extend"
    assert client.put(path, json={"size_gb": 10}).status_code == 400
    assert client.put(path, json={"size_gb": 5}).status_code == 400
    assert client.put(path, json={"size_gb": 501}).status_code == 400
    assert client.put(path, json={}).status_code == 400
    grown = client.put(path, json={"size_gb": 50})
    assert grown.status_code == 200
    assert grown.json()["volume"]["size_gb"] == 50
    assert grown.json()["needs_restart"] is False  # not mounted anywhere
    assert client.get(f"/apps/{APP}/volumes/{volume['id']}").json()["size_gb"] == 50


def test_extend_needs_restart_while_a_started_machine_mounts_it(client: httpx.Client) -> None:
    volume = create_volume(client, size_gb=10)
    machine = create_machine(client, config=_mounted(volume["id"]))
    wait_ok(client, APP, machine["id"], "started")
    extended = client.put(f"/apps/{APP}/volumes/{volume['id']}/extend", json={"size_gb": 20}).json()
    assert extended["needs_restart"] is True
    # The machine reports the new size on its mount.
    mounts = client.get(f"/apps/{APP}/machines/{machine['id']}").json()["config"]["mounts"]
    assert mounts[0]["size_gb"] == 20
    client.post(f"/apps/{APP}/machines/{machine['id']}/stop")
    wait_ok(client, APP, machine["id"], "stopped")
    stopped = client.put(f"/apps/{APP}/volumes/{volume['id']}/extend", json={"size_gb": 30}).json()
    assert stopped["needs_restart"] is False


def test_a_bound_volume_cannot_be_deleted_even_when_its_machine_is_stopped(client: httpx.Client) -> None:
    volume = create_volume(client)
    machine = create_machine(client, config=_mounted(volume["id"]))
    mid = machine["id"]
    wait_ok(client, APP, mid, "started")
    refused = client.delete(f"/apps/{APP}/volumes/{volume['id']}")
    assert refused.status_code == 412
    assert f"volume is currently bound to machine: {mid}" in refused.json()["error"]
    client.post(f"/apps/{APP}/machines/{mid}/stop")
    wait_ok(client, APP, mid, "stopped")
    assert client.delete(f"/apps/{APP}/volumes/{volume['id']}").status_code == 412
    client.delete(f"/apps/{APP}/machines/{mid}")
    wait_ok(client, APP, mid, "destroyed")
    deleted = client.delete(f"/apps/{APP}/volumes/{volume['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["state"] == "destroyed"
    assert client.get(f"/apps/{APP}/volumes/{volume['id']}").status_code == 404
    assert client.get(f"/apps/{APP}/volumes").json() == []


def test_a_destroyed_machine_can_keep_its_volume_for_a_while(client: httpx.Client, emu: FlyEmulator) -> None:
    emu.set_timing(volume_detach_seconds=0.3)
    volume = create_volume(client)
    mid = create_machine(client, config=_mounted(volume["id"]), skip_launch=True)["id"]
    client.delete(f"/apps/{APP}/machines/{mid}")
    wait_ok(client, APP, mid, "destroyed")
    assert client.delete(f"/apps/{APP}/volumes/{volume['id']}").status_code == 412
    for _ in range(100):  # bounded: the detach delay is 0.3 s, this polls for up to 2 s
        if client.get(f"/apps/{APP}/volumes/{volume['id']}").json()["attached_machine_id"] is None:
            break
        time.sleep(0.02)
    assert client.delete(f"/apps/{APP}/volumes/{volume['id']}").status_code == 200


def test_fork_copies_data_and_cannot_shrink(client: httpx.Client, emu: FlyEmulator) -> None:
    source = create_volume(client, size_gb=20)
    emu.set_volume_data(APP, source["id"], {"checkpoint": "base", "bytes": 11_300_000_000})
    too_small = client.post(
        f"/apps/{APP}/volumes",
        json={"name": "models", "region": REGION, "source_volume_id": source["id"], "size_gb": 10},
    )
    assert too_small.status_code == 400
    fork = client.post(
        f"/apps/{APP}/volumes", json={"name": "models", "region": "iad", "source_volume_id": source["id"]}
    )
    assert fork.status_code == 200
    assert fork.json()["size_gb"] == 20
    assert fork.json()["region"] == "iad"
    assert emu.volume_data(APP, fork.json()["id"]) == {"checkpoint": "base", "bytes": 11_300_000_000}
    # Independent copies afterwards.
    emu.set_volume_data(APP, source["id"], {"checkpoint": "large"})
    assert emu.volume_data(APP, fork.json()["id"])["checkpoint"] == "base"
    missing = client.post(
        f"/apps/{APP}/volumes", json={"name": "m", "region": REGION, "source_volume_id": "vol_nope"}
    )
    assert missing.status_code == 404


def test_snapshot_and_restore(client: httpx.Client, emu: FlyEmulator) -> None:
    volume = create_volume(client, size_gb=15)
    emu.set_volume_data(APP, volume["id"], {"songs": 7})
    assert client.post(f"/apps/{APP}/volumes/{volume['id']}/snapshots").status_code == 200
    snapshots = client.get(f"/apps/{APP}/volumes/{volume['id']}/snapshots").json()
    assert len(snapshots) == 1
    restored = client.post(
        f"/apps/{APP}/volumes", json={"name": "restored", "region": REGION, "snapshot_id": snapshots[0]["id"]}
    ).json()
    assert restored["size_gb"] == 15
    assert emu.volume_data(APP, restored["id"]) == {"songs": 7}
    both = client.post(
        f"/apps/{APP}/volumes",
        json={
            "name": "x",
            "region": REGION,
            "snapshot_id": snapshots[0]["id"],
            "source_volume_id": volume["id"],
        },
    )
    assert both.status_code == 400


def test_gpu_compute_hint_is_accepted_whether_or_not_gpus_are_offered(
    client: httpx.Client, emu: FlyEmulator
) -> None:
    compute = {
        "cpu_kind": "performance",
        "cpus": 8,
        "memory_mb": 32768,
        "gpu_kind": "a100-pcie-40gb",
        "gpus": 1,
    }
    for offered in (False, True):
        emu.set_gpus_offered(offered)
        assert (
            client.post(
                f"/apps/{APP}/volumes", json={"name": "models", "region": REGION, "compute": compute}
            ).status_code
            == 200
        )
    assert all(v["compute"]["gpu_kind"] == "a100-pcie-40gb" for v in emu.state()["volumes"].values())


def test_update_settings(client: httpx.Client) -> None:
    volume = create_volume(client)
    updated = client.put(
        f"/apps/{APP}/volumes/{volume['id']}", json={"snapshot_retention": 14, "auto_backup_enabled": False}
    )
    assert updated.status_code == 200
    assert updated.json()["snapshot_retention"] == 14
    assert updated.json()["auto_backup_enabled"] is False
    assert (
        client.put(f"/apps/{APP}/volumes/{volume['id']}", json={"snapshot_retention": 0}).status_code == 400
    )


def test_volume_data_over_the_control_surface(client: httpx.Client, control: httpx.Client) -> None:
    volume = create_volume(client)
    path = f"/apps/{APP}/volumes/{volume['id']}/data"
    assert control.get(path).json() == {}
    assert control.put(path, json={"data": {"queue": ["song-1"]}}).status_code == 200
    assert control.get(path).json() == {"queue": ["song-1"]}
    assert control.put(path, json={"queue": []}).status_code == 400
    assert control.get(f"/apps/{APP}/volumes/vol_nope/data").status_code == 404
