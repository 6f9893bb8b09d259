"""Auth (Bearer or FlyV1, optional fixed token), unknown routes, and that no token is ever recorded."""

from __future__ import annotations

import json

import httpx
import pytest

from emulator import FlyEmulator
from tests.emulator.conftest import TOKEN
from tests.emulator.helpers import APP, create_app

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "FlyV1", "Basic dXNlcjpwYXNz", "Token abc", "fm2_abc"],
    ids=["missing", "empty", "bearer-only", "flyv1-only", "basic", "other-scheme", "no-scheme"],
)
def test_requests_without_a_usable_token_are_401(emu: FlyEmulator, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = httpx.get(f"{emu.base_url}/apps", params={"org_slug": "personal"}, headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("scheme", ["Bearer", "FlyV1", "bearer"])
def test_bearer_and_flyv1_schemes_are_accepted(emu: FlyEmulator, scheme: str) -> None:
    response = httpx.get(
        f"{emu.base_url}/apps",
        params={"org_slug": "personal"},
        headers={"Authorization": f"{scheme} {TOKEN}"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"total_apps": 0, "apps": []}


def test_a_fixed_token_rejects_every_other_token() -> None:
    with FlyEmulator(token="the-right-one") as emu:
        url = f"{emu.base_url}/apps"
        wrong = httpx.get(
            url, params={"org_slug": "personal"}, headers={"Authorization": "Bearer the-wrong-one"}
        )
        right = httpx.get(
            url, params={"org_slug": "personal"}, headers={"Authorization": "FlyV1 the-right-one"}
        )
        assert wrong.status_code == 401
        assert right.status_code == 200
        snapshot = json.dumps(emu.state())
        assert "the-right-one" not in snapshot
        assert emu.state()["token_required"] is True


def test_unknown_routes_answer_json_404(client: httpx.Client, emu: FlyEmulator) -> None:
    for response in (
        client.get("/apps/x/gizmos"),
        client.post("/no/such/thing", json={}),
        httpx.get(f"{emu.root_url}/elsewhere"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")
        assert "error" in response.json()


def test_wrong_method_is_a_json_error(client: httpx.Client) -> None:
    create_app(client)
    response = client.put(f"/apps/{APP}")
    assert response.status_code == 405
    assert "error" in response.json()


def test_invalid_json_body_is_400(client: httpx.Client) -> None:
    response = client.post("/apps", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "invalid JSON" in response.json()["error"]


def test_tokens_never_reach_the_request_log(emu: FlyEmulator) -> None:
    secret_token = "fm2_do-not-log-me"
    with httpx.Client(base_url=emu.base_url, headers={"Authorization": f"FlyV1 {secret_token}"}) as c:
        c.post("/apps", json={"name": "leaky", "org_slug": "personal", "network": f"net-{secret_token}"})
        c.get("/apps", params={"org_slug": "personal", "token": "anything", "note": secret_token})
        c.get(f"/apps/{secret_token}")
    records = emu.requests()
    assert len(records) == 3
    dumped = json.dumps([r.as_dict() for r in records])
    assert secret_token not in dumped
    assert "<redacted>" in dumped
    assert "anything" not in dumped  # a query parameter named token is always redacted


def test_every_api_request_is_recorded_with_status_and_duration(
    client: httpx.Client, emu: FlyEmulator
) -> None:
    create_app(client)
    client.get(f"/apps/{APP}")
    client.get("/apps/missing")
    records = emu.requests()
    assert [(r.method, r.path, r.status) for r in records] == [
        ("POST", "/v1/apps", 201),
        ("GET", f"/v1/apps/{APP}", 200),
        ("GET", "/v1/apps/missing", 404),
    ]
    assert all(r.duration_s >= 0 for r in records)
    assert records[0].body == {"name": APP, "org_slug": "personal"}
