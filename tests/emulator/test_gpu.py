"""GPUs: rejected with 400 since 2026-08-01 (the default); when switched on, only in their regions."""

from __future__ import annotations

import httpx
import pytest

from emulator import FlyEmulator
from tests.emulator.helpers import APP, GPU_GUEST, create_app, create_machine, machine_config, wait_ok

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _app(client: httpx.Client) -> None:
    create_app(client)


def _gpu_config(kind: str = "a10") -> dict[str, object]:
    return {"image": "img", "guest": {**GPU_GUEST, "gpu_kind": kind}}


@pytest.mark.parametrize(
    "guest",
    [
        {**GPU_GUEST},
        {"cpu_kind": "performance", "cpus": 8, "memory_mb": 32768, "gpus": 1},
        {"cpu_kind": "performance", "cpus": 8, "memory_mb": 32768, "gpu_kind": "l40s"},
    ],
    ids=["kind-and-count", "count-only", "kind-only"],
)
def test_gpu_guests_are_400_when_not_offered(client: httpx.Client, guest: dict[str, object]) -> None:
    response = client.post(
        f"/apps/{APP}/machines", json={"region": "ord", "config": {"image": "img", "guest": guest}}
    )
    assert response.status_code == 400
    assert "2026-08-01" in response.json()["error"]
    assert client.get(f"/apps/{APP}/machines").json() == []


def test_gpu_presets_by_size_are_rejected_too(client: httpx.Client) -> None:
    response = client.post(
        f"/apps/{APP}/machines", json={"region": "ord", "config": {"image": "img", "size": "a100-40gb"}}
    )
    assert response.status_code == 400


def test_updating_a_machine_onto_a_gpu_is_rejected(client: httpx.Client) -> None:
    machine = create_machine(client)
    response = client.post(f"/apps/{APP}/machines/{machine['id']}", json={"config": _gpu_config()})
    assert response.status_code == 400
    assert client.get(f"/apps/{APP}/machines/{machine['id']}").json()["instance_id"] == machine["instance_id"]


@pytest.mark.parametrize(
    ("kind", "region"),
    [
        ("a10", "ord"),
        ("l40s", "ord"),
        ("a100-pcie-40gb", "ord"),
        *[("a100-sxm4-80gb", r) for r in ("iad", "sjc", "syd", "ams")],
    ],
)
def test_offered_gpus_run_in_their_regions(
    client: httpx.Client, emu: FlyEmulator, kind: str, region: str
) -> None:
    emu.set_gpus_offered(True)
    machine = create_machine(client, region=region, config=_gpu_config(kind))
    assert machine["config"]["guest"]["gpu_kind"] == kind
    assert machine["config"]["guest"]["gpus"] == 1
    wait_ok(client, APP, machine["id"], "started")


@pytest.mark.parametrize(("kind", "region"), [("a10", "iad"), ("l40s", "ams"), ("a100-sxm4-80gb", "ord")])
def test_offered_gpus_elsewhere_get_the_capacity_error(
    client: httpx.Client, emu: FlyEmulator, kind: str, region: str
) -> None:
    emu.set_gpus_offered(True)
    response = client.post(f"/apps/{APP}/machines", json={"region": region, "config": _gpu_config(kind)})
    assert response.status_code == 422
    assert response.json()["status"] == "insufficient_capacity"


def test_unknown_gpu_kind_is_400(client: httpx.Client, emu: FlyEmulator) -> None:
    emu.set_gpus_offered(True)
    response = client.post(f"/apps/{APP}/machines", json={"region": "ord", "config": _gpu_config("h100")})
    assert response.status_code == 400


def test_gpus_cannot_suspend(client: httpx.Client, emu: FlyEmulator) -> None:
    emu.set_gpus_offered(True)
    service = {"protocol": "tcp", "internal_port": 7860, "autostop": "suspend"}
    config = {**_gpu_config(), "services": [service]}
    assert client.post(f"/apps/{APP}/machines", json={"region": "ord", "config": config}).status_code == 400
    machine = create_machine(client, config=_gpu_config())
    wait_ok(client, APP, machine["id"], "started")
    assert client.post(f"/apps/{APP}/machines/{machine['id']}/suspend").status_code == 400


def test_switching_gpus_over_http(client: httpx.Client, control: httpx.Client) -> None:
    assert control.post("/settings", json={"gpus_offered": True}).json()["gpus_offered"] is True
    assert (
        client.post(f"/apps/{APP}/machines", json={"region": "ord", "config": _gpu_config()}).status_code
        == 200
    )
    control.post("/settings", json={"gpus_offered": False})
    assert (
        client.post(f"/apps/{APP}/machines", json={"region": "ord", "config": _gpu_config()}).status_code
        == 400
    )


def test_cpu_machine_for_the_studio_is_fine_either_way(client: httpx.Client, emu: FlyEmulator) -> None:
    for offered in (False, True):
        emu.set_gpus_offered(offered)
        create_machine(client, config=machine_config())
