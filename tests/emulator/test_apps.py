"""Apps: global names, validation, org scoping, and deletion taking everything with it."""

from __future__ import annotations

import httpx
import pytest

from emulator import FlyEmulator
from tests.emulator.helpers import APP, create_app, create_machine, create_volume, wait_ok

pytestmark = pytest.mark.timeout(60)


def test_create_get_and_list(client: httpx.Client) -> None:
    created = create_app(client)
    assert created["name"] == APP
    assert created["organization"]["slug"] == "personal"
    assert created["status"] == "pending"
    got = client.get(f"/apps/{APP}").json()
    assert got["id"] == created["id"]
    listed = client.get("/apps", params={"org_slug": "personal"}).json()
    assert listed["total_apps"] == 1
    assert [a["name"] for a in listed["apps"]] == [APP]


def test_app_name_from_the_docs_field_is_accepted(client: httpx.Client) -> None:
    response = client.post("/apps", json={"app_name": "docs-style", "org_slug": "personal"})
    assert response.status_code == 201
    assert response.json()["name"] == "docs-style"
    clash = client.post("/apps", json={"app_name": "one", "name": "two", "org_slug": "personal"})
    assert clash.status_code == 400


def test_names_are_global_and_taken_names_are_422(client: httpx.Client, emu: FlyEmulator) -> None:
    create_app(client)
    again = client.post("/apps", json={"name": APP, "org_slug": "personal"})
    assert again.status_code == 422
    assert again.json() == {"error": "Name has already been taken", "status": "name_taken"}

    emu.reserve_app_name("taken-elsewhere")
    elsewhere = client.post("/apps", json={"name": "taken-elsewhere", "org_slug": "personal"})
    assert elsewhere.status_code == 422
    assert elsewhere.json()["status"] == "name_taken"


def test_an_app_in_another_org_is_invisible(client: httpx.Client, emu: FlyEmulator) -> None:
    emu.reserve_app_name("taken-elsewhere")
    response = client.get("/apps/taken-elsewhere")
    # Fly answers 403 "unauthorized" (fly-go #282); fly-go reads it as "exists in an org you cannot access".
    assert response.status_code == 403
    assert response.json() == {"error": "unauthorized"}
    assert client.get("/apps", params={"org_slug": "personal"}).json()["apps"] == []


@pytest.mark.parametrize("name", ["Upper", "under_score", "-leading", "trailing-", "dot.ted", "x" * 64, ""])
def test_invalid_app_names_are_422(client: httpx.Client, name: str) -> None:
    response = client.post("/apps", json={"name": name, "org_slug": "personal"})
    assert response.status_code == 422, response.text
    assert "error" in response.json()


def test_org_slug_is_required_and_must_exist(client: httpx.Client, emu: FlyEmulator) -> None:
    assert client.post("/apps", json={"name": "no-org"}).status_code == 400
    assert client.post("/apps", json={"name": "bad-org", "org_slug": "nope"}).status_code == 404
    assert client.get("/apps").status_code == 400
    emu.add_org("my-team")
    assert client.post("/apps", json={"name": "team-app", "org_slug": "my-team"}).status_code == 201
    assert [a["name"] for a in client.get("/apps", params={"org_slug": "my-team"}).json()["apps"]] == [
        "team-app"
    ]


def test_missing_app_is_404(client: httpx.Client) -> None:
    for response in (
        client.get("/apps/ghost"),
        client.get("/apps/ghost/machines"),
        client.delete("/apps/ghost"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "app not found"}


def test_delete_without_force_refuses_running_machines(client: httpx.Client) -> None:
    create_app(client)
    machine = create_machine(client)
    wait_ok(client, APP, machine["id"], "started")
    assert client.delete(f"/apps/{APP}").status_code == 412
    assert client.post(f"/apps/{APP}/machines/{machine['id']}/stop").status_code == 200
    wait_ok(client, APP, machine["id"], "stopped")
    response = client.delete(f"/apps/{APP}")
    assert response.status_code == 202
    assert response.content == b""


def test_deleting_an_app_destroys_everything_and_nothing_stays_billable(
    client: httpx.Client, emu: FlyEmulator
) -> None:
    create_app(client)
    volume = create_volume(client)
    machine = create_machine(
        client, config={"image": "img", "mounts": [{"volume": volume["id"], "path": "/data"}]}
    )
    client.post(f"/apps/{APP}/ip_assignments", json={"type": "v6"})
    client.post(f"/apps/{APP}/ip_assignments", json={"type": "shared_v4"})
    client.post(f"/apps/{APP}/secrets", json={"values": {"HF_TOKEN": "hf_x"}})
    wait_ok(client, APP, machine["id"], "started")
    assert len(emu.billable()) == 5  # app, machine, volume, two IPs

    assert client.delete(f"/apps/{APP}", params={"force": "true"}).status_code == 202
    assert emu.billable() == []
    state = emu.state()
    assert state["apps"] == {}
    assert state["machines"] == {}
    assert state["volumes"] == {}
    assert state["ips"] == []
    assert client.get(f"/apps/{APP}").status_code == 404
    # The name is free again.
    create_app(client)
    assert client.get(f"/apps/{APP}/secrets").json() == {"secrets": []}
