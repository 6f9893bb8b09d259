"""BackgroundServer: a loopback port of its own, known once started, given back once stopped."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.standin.toy import ToyError, ToyServer

pytestmark = pytest.mark.timeout(60)


def test_a_server_that_is_not_running_says_so_in_its_own_error() -> None:
    server = ToyServer()
    with pytest.raises(ToyError, match="the toy is not running; call start"):
        _ = server.root_url


def test_a_started_server_answers_on_a_free_loopback_port_and_gives_it_back_when_stopped() -> None:
    server = ToyServer().start()
    try:
        port = server.port
        assert server.root_url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{server.root_url}/__toy/health", timeout=5).json()["ok"] is True
        assert server.start().port == port  # starting again changes nothing
    finally:
        server.stop()
    assert server.port == 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # the port is free again


def test_the_context_manager_stops_the_server_on_the_way_out() -> None:
    with ToyServer() as server:
        url = server.root_url
        assert httpx.get(f"{url}/__toy/health", timeout=5).status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/__toy/health", timeout=2)


def test_a_port_that_is_taken_is_refused_before_any_thread_starts() -> None:
    with ToyServer() as first, pytest.raises(OSError, match="in use"):
        ToyServer(port=first.port).start()


def test_the_python_switches_act_on_the_same_core_as_the_http_surface(toy: ToyServer) -> None:
    with httpx.Client(base_url=toy.root_url, timeout=5) as client:
        toy.core.faults.add(path=r"/api/items/.*", times=3)
        assert client.get("/api/items/a").status_code == 503
        toy.clear_faults()
        client.put("/api/items/a", json={"value": 1})
        assert [(r.method, r.status) for r in toy.requests()] == [("GET", 503), ("PUT", 200)]
        toy.clear_requests()
        assert client.get("/__toy/requests").json() == []
        toy.core.settings.latency = 0.01
        toy.reset()
        assert (toy.core.store.items, toy.requests(), toy.core.settings.latency) == ({}, [], 0.01)
