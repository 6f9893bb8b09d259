"""The pipeline in front of a stand-in's routes: latency, faults before and after the route, cut bodies, the
stand-in's own bugs, request ids, and one record per request."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.standin.toy import ToyServer

pytestmark = pytest.mark.timeout(60)


def test_a_fault_answers_in_the_services_shape_and_the_request_has_no_effect(
    toy: ToyServer, client: httpx.Client
) -> None:
    toy.core.faults.add(method="PUT", path=r"/api/items/.*", status=503, retry_after=2)
    refused = client.put("/items/a", json={"value": 1})
    assert (refused.status_code, refused.json(), refused.headers["Retry-After"]) == (
        503,
        {"problem": "trouble"},
        "2",
    )
    assert toy.core.store.items == {}
    assert client.put("/items/a", json={"value": 1}).status_code == 200


def test_an_after_fault_lets_the_request_take_effect_and_answers_the_fault(
    toy: ToyServer, client: httpx.Client
) -> None:
    toy.core.faults.add(method="PUT", path=r"/api/items/.*", status=502, after=True, message="lost")
    lost = client.put("/items/a", json={"value": 7})
    assert (lost.status_code, lost.json()) == (502, {"problem": "lost"})
    assert toy.core.store.items == {"a": 7}
    assert [(r.path, r.status) for r in toy.core.log.all()] == [("/api/items/a", 502)]


def test_a_cut_fault_sends_part_of_the_body_then_drops_the_connection(
    toy: ToyServer, client: httpx.Client
) -> None:
    toy.core.faults.add(method="GET", path=r"/api/bytes/.*", cut_after=2500)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/bytes/10000")
    whole = client.get("/bytes/10000")
    assert len(whole.content) == 10000
    assert [(r.status, r.bytes_sent) for r in toy.core.log.all()] == [(200, 2500), (200, 10000)]


def test_a_timed_fault_refuses_every_match_until_it_runs_out(toy: ToyServer, client: httpx.Client) -> None:
    toy.core.faults.add(path=r"/api/.*", status=429, seconds=0.3)
    assert {client.get("/items/a").status_code for _ in range(4)} == {429}
    time.sleep(0.35)
    assert client.get("/items/a").status_code == 404


def test_latency_slows_the_api_and_never_the_control_surface(
    toy: ToyServer, client: httpx.Client, control: httpx.Client
) -> None:
    toy.core.settings.latency = 0.2
    started = time.monotonic()
    client.get("/items/a")
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    control.get("/health")
    assert time.monotonic() - started < 0.2


def test_the_control_surface_is_neither_faulted_nor_recorded(toy: ToyServer, control: httpx.Client) -> None:
    toy.core.faults.add(path=r".*", status=500, times=5)
    assert control.get("/health").status_code == 200
    assert toy.core.log.all() == []
    assert toy.core.faults.snapshot()[0]["remaining"] == 5


def test_every_request_is_recorded_once_with_its_body_and_request_id(
    toy: ToyServer, client: httpx.Client
) -> None:
    toy.core.faults.add(method="PUT", path=r"/api/items/b", status=500)
    answers = [client.put("/items/a", json={"value": 1}), client.put("/items/b", json={"value": 2})]
    records = toy.core.log.all()
    assert [(r.method, r.path, r.status, r.body) for r in records] == [
        ("PUT", "/api/items/a", 200, b'{"value":1}'),
        ("PUT", "/api/items/b", 500, b'{"value":2}'),
    ]
    assert [a.headers["X-Toy-Request"] for a in answers] == [r.request_id for r in records]


def test_a_bug_in_a_route_is_a_500_in_the_services_shape_and_the_server_keeps_serving(
    toy: ToyServer, client: httpx.Client
) -> None:
    broken = client.get("/bug")
    assert (broken.status_code, broken.json()) == (500, {"problem": "toy bug: RuntimeError: the toy broke"})
    assert client.get("/items/a").status_code == 404
    assert [r.status for r in toy.core.log.all()] == [500, 404]


def test_an_unknown_route_is_named_in_the_services_shape(client: httpx.Client) -> None:
    missing, wrong_method = client.get("/no/such/route"), client.delete("/bug")
    assert (missing.status_code, missing.json()) == (
        404,
        {"problem": "no such route: GET /api/no/such/route"},
    )
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"problem": "method not allowed on this route: DELETE /api/bug"}
