"""Secrets (versioned, digests only, never plaintext) and IP assignments (public addresses only)."""

from __future__ import annotations

import ipaddress
import json

import httpx
import pytest

from emulator import FlyEmulator
from tests.emulator.helpers import APP, create_app, create_machine, machine_config

pytestmark = pytest.mark.timeout(60)

PLAINTEXT = "hf_SuperSecretValue123"


@pytest.fixture(autouse=True)
def _app(client: httpx.Client) -> None:
    create_app(client)


def test_secrets_version_moves_on_each_change_and_null_unsets(client: httpx.Client) -> None:
    path = f"/apps/{APP}/secrets"
    first = client.post(path, json={"values": {"HF_TOKEN": PLAINTEXT, "ADMIN_PASSWORD": "pw"}})
    assert first.status_code == 200
    assert first.json()["version"] == 1
    assert [s["name"] for s in first.json()["secrets"]] == ["ADMIN_PASSWORD", "HF_TOKEN"]
    digest = {s["name"]: s["digest"] for s in first.json()["secrets"]}

    second = client.post(path, json={"values": {"HF_TOKEN": "hf_rotated", "ADMIN_PASSWORD": None}}).json()
    assert second["version"] == 2
    assert [s["name"] for s in second["secrets"]] == ["HF_TOKEN"]
    assert second["secrets"][0]["digest"] != digest["HF_TOKEN"]

    listed = client.get(path).json()
    assert set(listed) == {"secrets"}
    assert [s["name"] for s in listed["secrets"]] == ["HF_TOKEN"]
    assert all("value" not in s for s in listed["secrets"])


def test_same_value_gives_the_same_digest(client: httpx.Client) -> None:
    path = f"/apps/{APP}/secrets"
    a = client.post(path, json={"values": {"K": "v"}}).json()["secrets"][0]["digest"]
    b = client.post(path, json={"values": {"K": "v"}}).json()["secrets"][0]["digest"]
    assert a == b


@pytest.mark.parametrize(
    "body",
    [{}, {"values": {}}, {"values": {"K": 1}}, {"values": {"bad-name": "v"}}, {"values": ["K"]}],
)
def test_invalid_secret_updates_are_400(client: httpx.Client, body: dict[str, object]) -> None:
    assert client.post(f"/apps/{APP}/secrets", json=body).status_code == 400


def test_no_plaintext_in_state_or_log(client: httpx.Client, emu: FlyEmulator, control: httpx.Client) -> None:
    client.post(f"/apps/{APP}/secrets", json={"values": {"HF_TOKEN": PLAINTEXT}})
    client.post(f"/apps/{APP}/secrets/OTHER", json={"value": PLAINTEXT + "-2"})
    for text in (
        json.dumps(emu.state()),
        json.dumps([r.as_dict() for r in emu.requests()]),
        control.get("/state").text,
        control.get("/requests").text,
    ):
        assert PLAINTEXT not in text
    logged = emu.requests()[1].body  # [0] is the app creation
    assert logged == {"values": {"HF_TOKEN": "<redacted>"}}
    state_secrets = emu.state()["apps"][APP]["secrets"]
    assert state_secrets["version"] == 2
    assert {s["name"] for s in state_secrets["secrets"]} == {"HF_TOKEN", "OTHER"}


def test_show_secrets_cannot_be_answered(client: httpx.Client) -> None:
    client.post(f"/apps/{APP}/secrets", json={"values": {"K": "v"}})
    assert client.get(f"/apps/{APP}/secrets", params={"show_secrets": "true"}).status_code == 403


def test_single_secret_endpoints(client: httpx.Client) -> None:
    created = client.post(f"/apps/{APP}/secrets/HF_TOKEN", json={"value": PLAINTEXT})
    assert created.status_code == 201
    assert created.json()["version"] == 1
    assert client.get(f"/apps/{APP}/secrets/HF_TOKEN").json()["name"] == "HF_TOKEN"
    assert client.delete(f"/apps/{APP}/secrets/HF_TOKEN").json()["version"] == 2
    assert client.get(f"/apps/{APP}/secrets/HF_TOKEN").status_code == 404
    assert client.delete(f"/apps/{APP}/secrets/HF_TOKEN").status_code == 404


def test_machines_record_the_secrets_version_they_got(client: httpx.Client, emu: FlyEmulator) -> None:
    client.post(f"/apps/{APP}/secrets", json={"values": {"K": "1"}})
    machine = create_machine(client, min_secrets_version=1)
    assert emu.state()["machines"][machine["id"]]["secrets_version"] == 1
    client.post(f"/apps/{APP}/secrets", json={"values": {"K": "2"}})
    # A restart does not pick new secrets up; an update does.
    assert emu.state()["machines"][machine["id"]]["secrets_version"] == 1
    client.post(
        f"/apps/{APP}/machines/{machine['id']}", json={"config": machine_config(), "min_secrets_version": 2}
    )
    snapshot = emu.state()["machines"][machine["id"]]
    assert (snapshot["min_secrets_version"], snapshot["secrets_version"]) == (2, 2)


def test_min_secrets_version_ahead_of_the_app_is_refused(client: httpx.Client) -> None:
    client.post(f"/apps/{APP}/secrets", json={"values": {"K": "1"}})
    response = client.post(
        f"/apps/{APP}/machines", json={"region": "ord", "config": machine_config(), "min_secrets_version": 5}
    )
    assert response.status_code == 412
    assert client.get(f"/apps/{APP}/secrets", params={"min_version": 5}).status_code == 412


def test_ip_assignment_lifecycle(client: httpx.Client, emu: FlyEmulator) -> None:
    path = f"/apps/{APP}/ip_assignments"
    v6 = client.post(path, json={"type": "v6"})
    shared = client.post(path, json={"type": "shared_v4"})
    dedicated = client.post(path, json={"type": "v4", "region": "ord"})
    assert (v6.status_code, shared.status_code, dedicated.status_code) == (200, 200, 200)
    addresses = [ipaddress.ip_address(r.json()["ip"]) for r in (v6, shared, dedicated)]
    assert addresses[0] in ipaddress.ip_network("2a09:8280:1::/48")
    assert all(a.is_global for a in addresses)
    assert shared.json()["shared"] is True
    assert v6.json()["shared"] is False
    assert dedicated.json()["region"] == "ord"
    assert v6.json()["region"] == "global"

    listed = client.get(path).json()["ips"]
    assert {i["ip"] for i in listed} == {str(a) for a in addresses}
    assert client.delete(f"{path}/{v6.json()['ip']}").status_code == 204
    assert client.delete(f"{path}/{v6.json()['ip']}").status_code == 404
    assert len(client.get(path).json()["ips"]) == 2
    assert len([b for b in emu.billable() if b.startswith("ip ")]) == 2


def test_shared_v4_is_the_same_address_for_every_app_and_one_per_app(client: httpx.Client) -> None:
    create_app(client, "second-app")
    a = client.post(f"/apps/{APP}/ip_assignments", json={"type": "shared_v4"}).json()["ip"]
    b = client.post("/apps/second-app/ip_assignments", json={"type": "shared_v4"}).json()["ip"]
    assert a == b
    assert client.post(f"/apps/{APP}/ip_assignments", json={"type": "shared_v4"}).status_code == 422


@pytest.mark.parametrize(
    "body", [{}, {"type": "v5"}, {"type": "private_v6"}, {"type": "v6", "region": "mars"}]
)
def test_invalid_ip_requests_are_400(client: httpx.Client, body: dict[str, object]) -> None:
    assert client.post(f"/apps/{APP}/ip_assignments", json=body).status_code == 400
