"""Switches and introspection: faults, rate limits, latency, the HTTP control surface, billable()."""

from __future__ import annotations

import time

import httpx
import pytest

from emulator import EmulatorError, FlyEmulator
from tests.emulator.helpers import APP, create_app, create_machine, wait_ok

pytestmark = pytest.mark.timeout(60)

MACHINES = r"/v1/apps/[^/]+/machines"


def test_a_fault_fires_n_times_then_stops(client: httpx.Client, emu: FlyEmulator) -> None:
    create_app(client)
    emu.inject_fault(method="POST", path=MACHINES, status=503, times=2, retry_after=2)
    body = {"region": "ord", "config": {"image": "img"}}
    first = client.post(f"/apps/{APP}/machines", json=body)
    second = client.post(f"/apps/{APP}/machines", json=body)
    third = client.post(f"/apps/{APP}/machines", json=body)
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["Retry-After"] == "2"
    assert first.json() == {"error": "service unavailable"}
    # Faulted requests had no effect: exactly one machine exists.
    assert len(client.get(f"/apps/{APP}/machines").json()) == 1
    assert [r.status for r in emu.requests() if r.method == "POST" and r.path.endswith("/machines")] == [
        503,
        503,
        200,
    ]


def test_a_timed_fault_answers_every_matching_request_until_it_expires(
    client: httpx.Client, emu: FlyEmulator
) -> None:
    create_app(client)
    emu.inject_fault(method="*", path=r"/v1/.*", status=429, retry_after=1, seconds=0.5)
    assert [client.get(f"/apps/{APP}").status_code for _ in range(5)] == [429] * 5
    time.sleep(0.6)
    assert client.get(f"/apps/{APP}").status_code == 200
    assert emu.state()["faults"] == []


def test_faults_match_method_and_whole_path_only(client: httpx.Client, emu: FlyEmulator) -> None:
    create_app(client)
    emu.inject_fault(method="POST", path=MACHINES, status=500, times=1)
    assert client.get(f"/apps/{APP}/machines").status_code == 200  # other method
    assert client.get(f"/apps/{APP}").status_code == 200  # other path
    assert client.post(f"/apps/{APP}/machines", json={}).status_code == 500
    assert emu.state()["faults"] == []


def test_an_after_fault_lets_the_call_take_effect(client: httpx.Client, emu: FlyEmulator) -> None:
    emu.inject_fault(method="POST", path=r"/v1/apps", status=502, after=True, message="upstream reset")
    lost = client.post("/apps", json={"name": "half-made", "org_slug": "personal"})
    assert lost.status_code == 502
    assert lost.json() == {"error": "upstream reset"}
    # The app was created even though the client saw an error: a blind retry now hits name_taken.
    assert client.get("/apps/half-made").status_code == 200
    assert client.post("/apps", json={"name": "half-made", "org_slug": "personal"}).status_code == 422


def test_faults_over_http(client: httpx.Client, control: httpx.Client) -> None:
    added = control.post(
        "/faults", json={"method": "GET", "path": r"/v1/apps/.*", "status": 429, "times": 1, "retry_after": 1}
    )
    assert added.status_code == 200
    assert control.get("/faults").json()[0]["remaining"] == 1
    limited = client.get("/apps/anything")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert client.get("/apps/anything").status_code == 404
    assert control.post("/faults", json={"path": "(", "status": 500}).status_code == 400
    assert control.post("/faults", json={"path": ".*", "status": 200}).status_code == 400
    control.post("/faults", json={"path": ".*", "status": 500, "times": 5})
    assert control.delete("/faults").status_code == 200
    assert control.get("/faults").json() == []


def test_rate_limit_answers_429_with_retry_after(client: httpx.Client, emu: FlyEmulator) -> None:
    create_app(client)
    emu.set_rate_limit(True)
    statuses = [client.get(f"/apps/{APP}/machines").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]  # burst of 3
    assert 429 in statuses[3:]
    limited = client.get(f"/apps/{APP}/machines")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json() == {"error": "rate limit exceeded"}
    # Another action has its own bucket.
    assert client.get(f"/apps/{APP}").status_code == 200
    time.sleep(1.05)  # one token back at 1 req/s
    assert client.get(f"/apps/{APP}/machines").status_code == 200


def test_get_machine_has_a_larger_budget(client: httpx.Client, emu: FlyEmulator) -> None:
    create_app(client)
    machine = create_machine(client)
    emu.set_rate_limit(True)
    statuses = [client.get(f"/apps/{APP}/machines/{machine['id']}").status_code for _ in range(12)]
    assert statuses[:10] == [200] * 10
    assert 429 in statuses[10:]


def test_rate_limits_are_per_machine(client: httpx.Client, emu: FlyEmulator) -> None:
    create_app(client)
    a, b = create_machine(client, skip_launch=True), create_machine(client, skip_launch=True)
    emu.set_rate_limit(True)
    for _ in range(3):
        client.post(f"/apps/{APP}/machines/{a['id']}/stop")
    assert client.post(f"/apps/{APP}/machines/{a['id']}/stop").status_code == 429
    assert client.post(f"/apps/{APP}/machines/{b['id']}/stop").status_code == 200


def test_latency_is_added_to_api_calls_only(
    client: httpx.Client, emu: FlyEmulator, control: httpx.Client
) -> None:
    emu.set_latency(0.2)
    started = time.monotonic()
    client.get("/apps", params={"org_slug": "personal"})
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    control.get("/health")
    assert time.monotonic() - started < 0.2
    assert emu.requests()[-1].duration_s >= 0.2


def test_settings_over_http(control: httpx.Client) -> None:
    changed = control.post("/settings", json={"latency": 0.01, "rate_limit": True, "boot_seconds": 0.2})
    assert changed.status_code == 200
    assert control.get("/settings").json() == {
        "gpus_offered": False,
        "latency": 0.01,
        "rate_limit": True,
        "boot_seconds": 0.2,
        "transition_seconds": 0.02,
        "volume_detach_seconds": 0.0,
    }
    assert control.post("/settings", json={"latency": -1}).status_code == 400
    assert control.post("/settings", json={"gpus": True}).status_code == 400
    assert control.post("/settings", json={"rate_limit": "yes"}).status_code == 400


def test_python_switches_reject_bad_values(emu: FlyEmulator) -> None:
    with pytest.raises(EmulatorError):
        emu.set_latency(-0.5)
    with pytest.raises(EmulatorError):
        emu.volume_data(APP, "vol_missing")
    with pytest.raises(ValueError, match="status"):
        emu.inject_fault(status=200)


def test_control_surface_views(client: httpx.Client, control: httpx.Client) -> None:
    assert control.get("/health").json()["emulation"] is True
    assert control.post("/reserved-app-names", json={"name": "held"}).status_code == 200
    assert client.post("/apps", json={"name": "held", "org_slug": "personal"}).status_code == 422
    assert control.post("/orgs", json={"slug": "team"}).status_code == 200
    assert client.post("/apps", json={"name": "team-app", "org_slug": "team"}).status_code == 201
    assert control.get("/billable").json() == {"billable": ["app team-app (org team)"]}
    records = control.get("/requests").json()
    assert [r["status"] for r in records] == [422, 201]
    assert set(records[0]) == {"method", "path", "query", "status", "duration_s", "body", "at"}
    assert control.delete("/requests").status_code == 200
    assert control.get("/requests").json() == []
    assert control.post("/failing-images", json={"image": "bad:1"}).status_code == 200
    assert control.get("/state").json()["failing_images"] == ["bad:1"]
    assert control.post("/reset").json() == {"ok": True}
    assert control.get("/billable").json() == {"billable": []}
    assert control.get("/state").json()["reserved_app_names"] == []


def test_billable_lists_what_is_left_and_empties_after_cleanup(
    client: httpx.Client, emu: FlyEmulator
) -> None:
    assert emu.billable() == []
    create_app(client)
    machine = create_machine(client)
    wait_ok(client, APP, machine["id"], "started")
    assert any(line.startswith(f"machine {machine['id']}") for line in emu.billable())
    client.delete(f"/apps/{APP}/machines/{machine['id']}", params={"force": "true"})
    wait_ok(client, APP, machine["id"], "destroyed")
    assert emu.billable() == [f"app {APP} (org personal)"]
    client.delete(f"/apps/{APP}")
    assert emu.billable() == []


def test_a_cut_fault_drops_the_connection_after_part_of_the_answer(
    client: httpx.Client, emu: FlyEmulator
) -> None:
    create_app(client)
    emu.inject_fault(method="GET", path=rf"/v1/apps/{APP}", cut_after=5)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/apps/{APP}")
    assert client.get(f"/apps/{APP}").status_code == 200
    assert [r.status for r in emu.requests() if r.method == "GET"] == [200, 200]
