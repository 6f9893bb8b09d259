"""The HTTP client against the emulator: retries, giving up, auth, and waits."""

from __future__ import annotations

import socket
import time

import pytest

from components.dynamic.api_error import Subject
from components.dynamic.retry import Backoff
from components.fly import credentials
from components.fly.api import FlyClient
from components.fly.errors import Category, FlyApiError
from emulator.server import FlyEmulator

from .conftest import ORG, TOKEN

SUBJECT = Subject("app", "songgen-retry")


def calls(emu: FlyEmulator, method: str, path: str) -> int:
    return sum(1 for r in emu.requests() if r.method == method and r.path == path)


def test_retries_succeed_after_injected_429_and_5xx(emu: FlyEmulator) -> None:
    emu.inject_fault(method="GET", path="/v1/apps/songgen-retry", status=429, times=1, retry_after=0)
    emu.inject_fault(method="GET", path="/v1/apps/songgen-retry", status=503, times=1)
    emu.inject_fault(method="GET", path="/v1/apps/songgen-retry", status=502, times=1)
    with FlyClient(SUBJECT) as fly:
        assert fly.get_json("/apps/songgen-retry") is None  # then the real answer: 404
    assert calls(emu, "GET", "/v1/apps/songgen-retry") == 4


def test_gives_up_once_the_time_budget_is_spent_with_a_clear_error(emu: FlyEmulator) -> None:
    emu.inject_fault(method="GET", path="/v1/apps/songgen-retry", status=503, times=10_000)
    backoff = Backoff(base_s=0.05, cap_s=0.1, budget_s=0.6)
    started = time.monotonic()
    with FlyClient(SUBJECT, backoff=backoff) as fly, pytest.raises(FlyApiError) as caught:
        fly.get_json("/apps/songgen-retry")
    elapsed = time.monotonic() - started
    err = caught.value
    assert err.status == 503
    assert err.category == Category.SERVER
    assert err.attempts > 2
    assert elapsed <= 0.6 + 0.5  # the budget, plus one request's time
    assert f"gave up after {err.attempts} attempts over" in str(err)
    assert "app songgen-retry" in str(err)
    assert calls(emu, "GET", "/v1/apps/songgen-retry") == err.attempts


def test_a_burst_of_429s_longer_than_a_few_attempts_is_waited_out(emu: FlyEmulator) -> None:
    emu.inject_fault(method="GET", path="/v1/apps/songgen-retry", status=429, times=12, retry_after=0)
    backoff = Backoff(base_s=0.05, cap_s=0.1, budget_s=10.0)
    with FlyClient(SUBJECT, backoff=backoff) as fly:
        assert fly.get_json("/apps/songgen-retry") is None  # then the real answer: 404
    assert calls(emu, "GET", "/v1/apps/songgen-retry") == 13


def test_other_client_errors_are_not_retried(emu: FlyEmulator) -> None:
    emu.inject_fault(
        method="GET", path="/v1/apps/songgen-retry", status=422, times=5, message="invalid thing"
    )
    with FlyClient(SUBJECT) as fly, pytest.raises(FlyApiError) as caught:
        fly.get_json("/apps/songgen-retry")
    assert caught.value.status == 422
    assert caught.value.fly_message == "invalid thing"
    assert calls(emu, "GET", "/v1/apps/songgen-retry") == 1


def test_retry_after_is_honoured(emu: FlyEmulator) -> None:
    emu.inject_fault(method="GET", path="/v1/apps/songgen-retry", status=429, times=1, retry_after=1)
    started = time.monotonic()
    with FlyClient(SUBJECT) as fly:
        fly.get_json("/apps/songgen-retry")
    assert time.monotonic() - started >= 1.0


def test_a_retry_after_beyond_the_budget_gives_up_at_once(emu: FlyEmulator) -> None:
    emu.inject_fault(method="GET", path="/v1/apps/songgen-retry", status=429, times=1, retry_after=60)
    started = time.monotonic()
    with FlyClient(SUBJECT) as fly, pytest.raises(FlyApiError) as caught:
        fly.get_json("/apps/songgen-retry")
    assert caught.value.category == Category.RATE_LIMITED
    assert time.monotonic() - started < 2.0


def test_a_create_that_failed_on_fly_side_is_not_blindly_repeated(emu: FlyEmulator) -> None:
    emu.inject_fault(method="POST", path="/v1/apps", status=500, times=1)
    with FlyClient(SUBJECT) as fly, pytest.raises(FlyApiError) as caught:
        fly.send_json("POST", "/apps", {"name": "songgen-retry", "org_slug": ORG})
    assert caught.value.maybe_applied
    assert calls(emu, "POST", "/v1/apps") == 1


def test_a_wrong_token_is_an_auth_error_with_advice(emu: FlyEmulator) -> None:
    with FlyClient(SUBJECT, token="fm2_wrong") as fly, pytest.raises(FlyApiError) as caught:
        fly.get_json("/apps/songgen-retry")
    assert caught.value.status == 401
    assert caught.value.category == Category.AUTH
    assert "fly tokens create" in str(caught.value)


def test_unreachable_api_is_a_network_error_after_bounded_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(credentials.URL_ENV, f"http://127.0.0.1:{port}/v1")
    backoff = Backoff(base_s=0.01, cap_s=0.05, budget_s=0.5)
    with FlyClient(SUBJECT, token=TOKEN, backoff=backoff) as fly, pytest.raises(FlyApiError) as caught:
        fly.get_json("/apps/songgen-retry")
    assert caught.value.category == Category.NETWORK
    assert caught.value.attempts > 1
    assert caught.value.elapsed_s < 0.5 + 0.2  # the budget, plus one connection attempt
    assert f"127.0.0.1:{port}" in str(caught.value)
