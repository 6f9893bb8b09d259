"""Machines: the timed state machine, wait, update, stop/start, delete, leases and config validation."""

from __future__ import annotations

import time

import httpx
import pytest

from emulator import FlyEmulator
from tests.emulator.helpers import (
    APP,
    CPU_GUEST,
    IMAGE,
    REGION,
    create_app,
    create_machine,
    create_volume,
    get_machine,
    machine_config,
    wait,
    wait_ok,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _app(client: httpx.Client) -> None:
    create_app(client)


def test_create_answers_created_then_boots_to_started(client: httpx.Client) -> None:
    machine = create_machine(client, name="web-1")
    assert machine["state"] == "created"
    assert machine["name"] == "web-1"
    assert machine["region"] == REGION
    assert len(machine["id"]) == 14
    assert len(machine["instance_id"]) == 26
    assert machine["private_ip"].startswith("fdaa:")
    assert machine["image_ref"]["registry"] == "registry.fly.io"
    assert machine["image_ref"]["repository"] == "songgen-test"
    assert machine["image_ref"]["tag"] == "deployment-1"

    reached = wait_ok(client, APP, machine["id"], "started")
    assert reached["ok"] is True
    assert reached["state"] == "started"
    assert reached["version"] == machine["instance_id"]
    got = get_machine(client, APP, machine["id"])
    assert got["state"] == "started"
    assert [e["status"] for e in reversed(got["events"])] == ["created", "starting", "started"]


def test_wait_accepts_several_states_and_settled(client: httpx.Client) -> None:
    machine = create_machine(client)
    response = client.get(
        f"/apps/{APP}/machines/{machine['id']}/wait", params=[("state", "stopped"), ("state", "started")]
    )
    assert response.status_code == 200
    assert response.json()["state"] == "started"
    assert (
        client.get(f"/apps/{APP}/machines/{machine['id']}/wait", params={"state": "settled"}).status_code
        == 200
    )


def test_wait_accepts_comma_separated_states(client: httpx.Client) -> None:
    machine = create_machine(client)
    assert wait_ok(client, APP, machine["id"], "stopped,failed,started")["state"] == "started"


def test_wait_from_an_event_needs_a_newer_transition(client: httpx.Client) -> None:
    mid = create_machine(client)["id"]
    event_id = wait_ok(client, APP, mid, "started")["event_id"]
    params: dict[str, str | int] = {"state": "started", "timeout": 1, "from_event_id": event_id}
    assert client.get(f"/apps/{APP}/machines/{mid}/wait", params=params).status_code == 408
    client.post(f"/apps/{APP}/machines/{mid}/restart")
    assert client.get(f"/apps/{APP}/machines/{mid}/wait", params=params).status_code == 200
    unknown: dict[str, str | int] = {
        "state": "started",
        "timeout": 1,
        "from_event_id": "01NOTANEVENT0000000000000",
    }
    assert client.get(f"/apps/{APP}/machines/{mid}/wait", params=unknown).status_code == 400


def test_wait_times_out_with_408(client: httpx.Client) -> None:
    machine = create_machine(client, skip_launch=True)
    started = time.monotonic()
    response = wait(client, APP, machine["id"], "started", timeout=1)
    elapsed = time.monotonic() - started
    assert response.status_code == 408
    assert "deadline_exceeded" in response.json()["error"]
    assert 0.9 <= elapsed < 5


@pytest.mark.parametrize("timeout", ["0", "61", "90", "-1", "soon"])
def test_wait_timeout_outside_one_to_sixty_seconds_is_400(client: httpx.Client, timeout: str) -> None:
    machine = create_machine(client)
    response = client.get(
        f"/apps/{APP}/machines/{machine['id']}/wait", params={"state": "started", "timeout": timeout}
    )
    assert response.status_code == 400
    assert "error" in response.json()


def test_wait_rejects_unknown_states(client: httpx.Client) -> None:
    machine = create_machine(client)
    assert wait(client, APP, machine["id"], "running").status_code == 400


def test_stop_then_start(client: httpx.Client, emu: FlyEmulator) -> None:
    machine = create_machine(client)
    mid = machine["id"]
    wait_ok(client, APP, mid, "started")
    emu.set_timing(transition_seconds=0.3)  # long enough to observe `stopping`
    assert client.post(f"/apps/{APP}/machines/{mid}/stop", json={"signal": "SIGTERM"}).json() == {"ok": True}
    assert get_machine(client, APP, mid)["state"] == "stopping"
    wait_ok(client, APP, mid, "stopped")
    started = client.post(f"/apps/{APP}/machines/{mid}/start")
    assert started.status_code == 200
    assert started.json()["previous_state"] == "stopped"
    wait_ok(client, APP, mid, "started")
    # Starting a running machine is refused.
    assert client.post(f"/apps/{APP}/machines/{mid}/start").status_code == 412


def test_skip_launch_leaves_the_machine_created_until_started(client: httpx.Client) -> None:
    machine = create_machine(client, skip_launch=True)
    time.sleep(0.2)
    assert get_machine(client, APP, machine["id"])["state"] == "created"
    assert client.post(f"/apps/{APP}/machines/{machine['id']}/start").json()["previous_state"] == "created"
    wait_ok(client, APP, machine["id"], "started")


def test_update_replaces_the_whole_config_and_restarts(client: httpx.Client) -> None:
    machine = create_machine(
        client,
        config=machine_config(
            env={"A": "1"}, metadata={"fly_platform_version": "v2", "fly_process_group": "app"}
        ),
    )
    mid = machine["id"]
    wait_ok(client, APP, mid, "started")
    new_config = machine_config(image=IMAGE.replace("-1", "-2"), env={"B": "2"})
    response = client.post(f"/apps/{APP}/machines/{mid}", json={"config": new_config})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["state"] == "replacing"
    assert updated["instance_id"] != machine["instance_id"]
    assert updated["config"]["env"] == {"B": "2"}  # not merged with the old env
    assert "metadata" not in updated["config"]  # whole config replaced: metadata not resent is gone
    assert updated["config"]["image"].endswith("deployment-2")
    reached = wait_ok(client, APP, mid, "started")
    assert reached["version"] == updated["instance_id"]
    versions = client.get(f"/apps/{APP}/machines/{mid}/versions").json()
    assert [v["version"] for v in versions] == [updated["instance_id"], machine["instance_id"]]


def test_update_of_a_stopped_machine_boots_it_unless_skip_launch(client: httpx.Client) -> None:
    mid = create_machine(client)["id"]
    wait_ok(client, APP, mid, "started")
    client.post(f"/apps/{APP}/machines/{mid}/stop")
    wait_ok(client, APP, mid, "stopped")
    client.post(f"/apps/{APP}/machines/{mid}", json={"config": machine_config(), "skip_launch": True})
    wait_ok(client, APP, mid, "stopped")
    time.sleep(0.15)
    assert get_machine(client, APP, mid)["state"] == "stopped"
    client.post(f"/apps/{APP}/machines/{mid}", json={"config": machine_config()})
    wait_ok(client, APP, mid, "started")


def test_update_checks_version_region_and_name(client: httpx.Client) -> None:
    machine = create_machine(client, name="fixed")
    path = f"/apps/{APP}/machines/{machine['id']}"
    assert (
        client.post(
            path, json={"config": machine_config(), "current_version": "01ZZZZZZZZZZZZZZZZZZZZZZZZ"}
        ).status_code
        == 412
    )
    assert client.post(path, json={"config": machine_config(), "region": "iad"}).status_code == 400
    assert client.post(path, json={"config": machine_config(), "name": "renamed"}).status_code == 400
    assert client.post(path, json={}).status_code == 400
    ok = client.post(path, json={"config": machine_config(), "current_version": machine["instance_id"]})
    assert ok.status_code == 200


def test_wait_for_an_old_version_is_a_precondition_failure(client: httpx.Client) -> None:
    machine = create_machine(client)
    client.post(f"/apps/{APP}/machines/{machine['id']}", json={"config": machine_config()})
    response = client.get(
        f"/apps/{APP}/machines/{machine['id']}/wait",
        params={"state": "started", "instance_id": machine["instance_id"], "timeout": 1},
    )
    assert response.status_code == 412


def test_delete_needs_force_while_running_and_destroyed_stays_readable(client: httpx.Client) -> None:
    mid = create_machine(client)["id"]
    wait_ok(client, APP, mid, "started")
    refused = client.delete(f"/apps/{APP}/machines/{mid}")
    assert refused.status_code == 412
    assert refused.json()["error"].startswith("failed_precondition")
    assert client.delete(f"/apps/{APP}/machines/{mid}", params={"force": "true"}).json() == {"ok": True}
    wait_ok(client, APP, mid, "destroyed")
    assert get_machine(client, APP, mid)["state"] == "destroyed"
    assert client.get(f"/apps/{APP}/machines").json() == []
    with_deleted = client.get(f"/apps/{APP}/machines", params={"include_deleted": "true"}).json()
    assert [m["id"] for m in with_deleted] == [mid]


def test_a_stopped_machine_deletes_without_force(client: httpx.Client) -> None:
    mid = create_machine(client, skip_launch=True)["id"]
    assert client.delete(f"/apps/{APP}/machines/{mid}").status_code == 200
    wait_ok(client, APP, mid, "destroyed")


def test_flyctl_kill_parameter_counts_as_force(client: httpx.Client) -> None:
    mid = create_machine(client)["id"]
    wait_ok(client, APP, mid, "started")
    assert client.delete(f"/apps/{APP}/machines/{mid}", params={"kill": "true"}).status_code == 200


def test_list_filters(client: httpx.Client) -> None:
    create_machine(client, config=machine_config(metadata={"role": "web"}))
    create_machine(client, region="iad", skip_launch=True)
    assert len(client.get(f"/apps/{APP}/machines").json()) == 2
    assert len(client.get(f"/apps/{APP}/machines", params={"region": "iad"}).json()) == 1
    assert len(client.get(f"/apps/{APP}/machines", params={"metadata.role": "web"}).json()) == 1
    summary = client.get(f"/apps/{APP}/machines", params={"summary": "true"}).json()
    assert all("config" not in m for m in summary)


def test_machine_not_found_and_region_required(client: httpx.Client) -> None:
    assert client.get(f"/apps/{APP}/machines/0123456789abcd").status_code == 404
    no_region = client.post(f"/apps/{APP}/machines", json={"config": machine_config()})
    assert no_region.status_code == 400
    bad_region = client.post(f"/apps/{APP}/machines", json={"region": "xyz", "config": machine_config()})
    assert bad_region.status_code == 400


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({}, "image"),
        ({"image": ""}, "image"),
        ({"image": "x", "guest": {"cpu_kind": "dedicated", "cpus": 1, "memory_mb": 2048}}, "cpu_kind"),
        ({"image": "x", "guest": {"cpu_kind": "performance", "cpus": 2, "memory_mb": 2048}}, "memory_mb"),
        ({"image": "x", "guest": {"cpu_kind": "performance", "cpus": 1, "memory_mb": 16384}}, "memory_mb"),
        ({"image": "x", "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 4096}}, "memory_mb"),
        ({"image": "x", "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 300}}, "multiple of 256"),
        ({"image": "x", "guest": {"cpu_kind": "shared", "cpus": 3, "memory_mb": 768}}, "cpus"),
        ({"image": "x", "guest": {"cpu_kind": "performance", "cpus": "8", "memory_mb": 16384}}, "cpus"),
        ({"image": "x", "restart": {"policy": "sometimes"}}, "restart.policy"),
        (
            {"image": "x", "services": [{"protocol": "tcp", "internal_port": 8080, "autostop": "pause"}]},
            "autostop",
        ),
        ({"image": "x", "services": [{"internal_port": 8080}]}, "protocol"),
        ({"image": "x", "services": [{"protocol": "tcp", "internal_port": 70000}]}, "internal_port"),
        (
            {
                "image": "x",
                "services": [{"protocol": "tcp", "internal_port": 80, "ports": [{"handlers": ["http"]}]}],
            },
            "port",
        ),
        (
            {
                "image": "x",
                "services": [
                    {"protocol": "tcp", "internal_port": 80, "ports": [{"port": 443, "handlers": ["gopher"]}]}
                ],
            },
            "handlers",
        ),
        (
            {
                "image": "x",
                "services": [
                    {
                        "protocol": "tcp",
                        "internal_port": 80,
                        "checks": [{"type": "http", "interval": "often"}],
                    }
                ],
            },
            "interval",
        ),
        ({"image": "x", "stop_config": {"signal": "SIGSTOP"}}, "signal"),
        ({"image": "x", "mounts": [{"volume": "vol_x", "path": "data"}]}, "path"),
    ],
)
def test_invalid_configs_are_400(client: httpx.Client, config: dict[str, object], needle: str) -> None:
    response = client.post(f"/apps/{APP}/machines", json={"region": REGION, "config": config})
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]


def test_performance_memory_bounds_are_per_cpu(client: httpx.Client) -> None:
    for memory in (2048 * 8, 8192 * 8):
        config = {"image": "x", "guest": {"cpu_kind": "performance", "cpus": 8, "memory_mb": memory}}
        assert (
            client.post(f"/apps/{APP}/machines", json={"region": REGION, "config": config}).status_code == 200
        )


def test_autostop_is_echoed_as_a_boolean_and_unknown_keys_are_dropped(client: httpx.Client) -> None:
    services = [
        {"protocol": "tcp", "internal_port": 7860, "autostop": "stop", "autostart": True,
         "ports": [{"port": 80, "handlers": ["http"], "force_https": True}, {"port": 443, "handlers": ["tls", "http"]}],
         "checks": [{"type": "http", "port": 7860, "path": "/api/health", "interval": "15s", "timeout": "5s", "grace_period": "1m"}]},
        {"protocol": "tcp", "internal_port": 9000, "autostop": "off"},
        {"protocol": "tcp", "internal_port": 9001, "autostop": "suspend"},
    ]  # fmt: skip
    config = machine_config(services=services, not_a_fly_field=True)
    machine = create_machine(client, config=config)
    echoed = machine["config"]
    assert [s["autostop"] for s in echoed["services"]] == [True, False, "suspend"]
    assert "not_a_fly_field" not in echoed
    assert echoed["guest"] == CPU_GUEST


def test_guest_defaults_and_size_presets(client: httpx.Client) -> None:
    bare = create_machine(client, config={"image": "x"})
    assert bare["config"]["guest"] == {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256}
    preset = create_machine(client, config={"image": "x", "size": "performance-2x"})
    assert preset["config"]["guest"] == {"cpu_kind": "performance", "cpus": 2, "memory_mb": 4096}
    assert "size" not in preset["config"]


def test_a_failing_image_ends_in_failed(client: httpx.Client, emu: FlyEmulator) -> None:
    emu.fail_image("broken:1")
    mid = create_machine(client, config={"image": "broken:1"})["id"]
    assert wait_ok(client, APP, mid, "failed")["state"] == "failed"
    assert wait(client, APP, mid, "started", timeout=1).status_code == 408
    # A fixed config brings it back.
    client.post(f"/apps/{APP}/machines/{mid}", json={"config": {"image": "fixed:2"}})
    wait_ok(client, APP, mid, "started")


def test_leases_guard_mutations(client: httpx.Client) -> None:
    mid = create_machine(client)["id"]
    base = f"/apps/{APP}/machines/{mid}"
    acquired = client.post(f"{base}/lease", params={"ttl": 30})
    assert acquired.status_code == 201
    nonce = acquired.json()["data"]["nonce"]
    assert client.get(f"{base}/lease").json()["data"]["nonce"] == nonce
    # Someone else cannot take it, nor update, stop or delete without the nonce.
    assert client.post(f"{base}/lease").status_code == 409
    assert client.post(base, json={"config": machine_config()}).status_code == 409
    assert (
        client.post(
            base, json={"config": machine_config()}, headers={"fly-machine-lease-nonce": "nope"}
        ).status_code
        == 409
    )
    assert client.post(f"{base}/stop").status_code == 409
    assert client.delete(base, params={"force": "true"}).status_code == 409
    with_nonce = client.post(
        base, json={"config": machine_config()}, headers={"fly-machine-lease-nonce": nonce}
    )
    assert with_nonce.status_code == 200
    # The holder can refresh it, and must present the nonce to release it.
    assert client.post(f"{base}/lease", headers={"fly-machine-lease-nonce": nonce}).status_code == 201
    assert client.delete(f"{base}/lease").status_code == 400
    assert client.delete(f"{base}/lease", headers={"fly-machine-lease-nonce": "nope"}).status_code == 409
    assert client.delete(f"{base}/lease", headers={"fly-machine-lease-nonce": nonce}).status_code == 200
    assert client.get(f"{base}/lease").status_code == 404
    assert client.post(f"{base}/stop").status_code == 200


def test_create_with_lease_ttl_returns_a_nonce_and_leases_expire(client: httpx.Client) -> None:
    machine = create_machine(client, lease_ttl=1)
    assert machine["nonce"]
    base = f"/apps/{APP}/machines/{machine['id']}"
    assert client.post(base, json={"config": machine_config()}).status_code == 409
    time.sleep(1.1)
    assert client.post(base, json={"config": machine_config()}).status_code == 200


def test_suspend_and_restart(client: httpx.Client, emu: FlyEmulator) -> None:
    emu.set_timing(transition_seconds=0.2)  # long enough to observe `stopping` after a restart
    mid = create_machine(client)["id"]
    base = f"/apps/{APP}/machines/{mid}"
    assert client.post(f"{base}/suspend").status_code == 412  # not started yet
    wait_ok(client, APP, mid, "started")
    assert client.post(f"{base}/suspend").status_code == 200
    wait_ok(client, APP, mid, "suspended")
    client.post(f"{base}/start")
    wait_ok(client, APP, mid, "started")
    assert client.post(f"{base}/restart").status_code == 200
    assert get_machine(client, APP, mid)["state"] == "stopping"
    wait_ok(client, APP, mid, "started")


def test_metadata_endpoints(client: httpx.Client) -> None:
    mid = create_machine(client)["id"]
    base = f"/apps/{APP}/machines/{mid}/metadata"
    assert client.post(f"{base}/fly_process_group", json={"value": "app"}).status_code == 204
    assert client.get(base).json() == {"fly_process_group": "app"}
    assert client.get(f"{base}/fly_process_group").json() == {"value": "app"}
    assert client.delete(f"{base}/fly_process_group").status_code == 204
    assert client.get(f"{base}/fly_process_group").status_code == 404


def test_operations_on_a_destroyed_machine_are_refused(client: httpx.Client) -> None:
    mid = create_machine(client, skip_launch=True)["id"]
    client.delete(f"/apps/{APP}/machines/{mid}")
    wait_ok(client, APP, mid, "destroyed")
    base = f"/apps/{APP}/machines/{mid}"
    assert client.post(f"{base}/start").status_code == 412
    assert client.post(base, json={"config": machine_config()}).status_code == 412
    assert client.delete(base).status_code == 404


def test_state_snapshot_is_plain_json(client: httpx.Client, emu: FlyEmulator, control: httpx.Client) -> None:
    mid = create_machine(client)["id"]
    wait_ok(client, APP, mid, "started")
    snapshot = emu.state()
    assert snapshot["emulation"] is True
    assert snapshot["machines"][mid]["state"] == "started"
    assert snapshot["machines"][mid]["config_version"] == 1
    over_http = control.get("/state").json()
    assert over_http["machines"][mid]["id"] == mid


def test_volume_survives_updates_and_is_bound_to_one_machine(client: httpx.Client, emu: FlyEmulator) -> None:
    volume = create_volume(client)
    emu.set_volume_data(APP, volume["id"], {"models": ["base"], "songs": 3})
    mounts = [{"volume": volume["id"], "path": "/data"}]
    first = create_machine(client, config=machine_config(mounts=mounts))
    assert client.get(f"/apps/{APP}/volumes/{volume['id']}").json()["attached_machine_id"] == first["id"]
    assert first["config"]["mounts"][0]["name"] == "models"

    # One machine per volume.
    second = client.post(
        f"/apps/{APP}/machines", json={"region": REGION, "config": machine_config(mounts=mounts)}
    )
    assert second.status_code == 412
    # Same region only.
    other = client.post(
        f"/apps/{APP}/machines", json={"region": "iad", "config": machine_config(mounts=mounts)}
    )
    assert other.status_code == 400
    # Unknown volume.
    ghost = [{"volume": "vol_doesnotexist0000", "path": "/data"}]
    assert (
        client.post(
            f"/apps/{APP}/machines", json={"region": REGION, "config": machine_config(mounts=ghost)}
        ).status_code
        == 400
    )

    for image in ("img:2", "img:3"):
        client.post(
            f"/apps/{APP}/machines/{first['id']}", json={"config": {"image": image, "mounts": mounts}}
        )
        wait_ok(client, APP, first["id"], "started")
    assert emu.volume_data(APP, volume["id"]) == {"models": ["base"], "songs": 3}

    # Dropping the mount in an update releases the volume.
    client.post(f"/apps/{APP}/machines/{first['id']}", json={"config": {"image": "img:4"}})
    assert client.get(f"/apps/{APP}/volumes/{volume['id']}").json()["attached_machine_id"] is None
