"""The control routes every stand-in has, over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.standin.toy import ToyServer

pytestmark = pytest.mark.timeout(60)


def test_health_says_it_is_an_emulation_and_of_what(control: httpx.Client) -> None:
    assert control.get("/health").json() == {"ok": True, "emulation": True, "service": "toy stand-in"}


def test_faults_are_armed_listed_and_cleared_over_http(
    toy: ToyServer, client: httpx.Client, control: httpx.Client
) -> None:
    added = control.post("/faults", json={"path": r"/api/items/.*", "times": 2, "retry_after": 1.5})
    assert added.status_code == 200
    assert {k: added.json()[k] for k in ("method", "status", "remaining", "retry_after")} == {
        "method": "*",
        "status": 503,
        "remaining": 2,
        "retry_after": 1.5,
    }
    control.post("/faults", json={"path": r"/api/bytes/.*", "cut_after": 10, "seconds": 30})
    assert [f["cut_after"] for f in control.get("/faults").json()] == [None, 10]
    assert client.get("/items/a").headers["Retry-After"] == "1.5"
    assert control.delete("/faults").json() == {"ok": True}
    assert control.get("/faults").json() == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"path": "("},
        {"path": ".*", "status": 200},
        {"path": ".*", "seconds": "long"},
        {"path": ".*", "times": "2"},
    ],
)
def test_a_fault_that_cannot_work_is_a_400_in_the_services_shape(control: httpx.Client, body: object) -> None:
    refused = control.post("/faults", json=body)
    assert refused.status_code == 400
    assert set(refused.json()) == {"problem"}
    assert control.get("/faults").json() == []


def test_the_request_log_is_listed_and_cleared(client: httpx.Client, control: httpx.Client) -> None:
    client.put("/items/a", json={"value": 1})
    [record] = control.get("/requests").json()
    assert (record["method"], record["path"], record["status"], record["body"]) == (
        "PUT",
        "/api/items/a",
        200,
        '{"value":1}',
    )
    assert control.delete("/requests").json() == {"ok": True}
    assert control.get("/requests").json() == []


def test_settings_are_shown_and_changed_with_every_value_checked(control: httpx.Client) -> None:
    assert control.get("/settings").json() == {"latency": 0.0}
    assert control.post("/settings", json={"latency": 0.01}).json() == {"latency": 0.01}
    assert control.post("/settings", json={"latency": -1}).status_code == 400
    assert control.post("/settings", json={"speed": 1}).status_code == 400
    assert control.get("/settings").json() == {"latency": 0.01}


def test_state_and_billable_come_from_the_stand_in(client: httpx.Client, control: httpx.Client) -> None:
    client.put("/items/b", json={"value": 2})
    assert control.get("/state").json() == {"items": {"b": 2}, "faults": []}
    assert control.get("/billable").json() == {"billable": ["item b"]}


def test_reset_forgets_the_store_faults_and_log_but_keeps_the_settings(
    toy: ToyServer, client: httpx.Client, control: httpx.Client
) -> None:
    control.post("/settings", json={"latency": 0.01})
    client.put("/items/a", json={"value": 1})
    control.post("/faults", json={"path": ".*"})
    assert control.post("/reset").json() == {"ok": True}
    assert (toy.core.store.items, toy.core.faults.snapshot(), toy.core.log.all()) == ({}, [], [])
    assert control.get("/settings").json() == {"latency": 0.01}
