"""The Hub client the providers share: retries bounded by time that honour Retry-After, and one clear error
naming the resource, the operation, the Hub's words and the fix, with the token never in it."""

from __future__ import annotations

import pickle
import time

import pytest

from components.dynamic import retry
from components.dynamic.api_error import Subject
from components.spaces import hub as hub_client
from components.spaces.errors import Category, SpacesError
from components.spaces.hub import Hub
from hub_emulator import HubEmulator
from tests.spaces.conftest import Account

SPACE = "alice/studio"


def client(**redact: str) -> Hub:
    return Hub(Subject("space", SPACE), redact=redact.values())


def test_a_burst_of_429s_is_waited_out_as_the_hubs_retry_after_asks(
    hub: HubEmulator, account: Account
) -> None:
    account.api.create_repo(SPACE, repo_type="space", space_sdk="docker")
    hub.inject_fault("GET", rf"/api/spaces/{SPACE}/runtime", status=429, times=2, retry_after=0.4)
    started = time.monotonic()
    runtime = client().call("space runtime", lambda api: api.get_space_runtime(SPACE))
    assert runtime.stage == "NO_APP_FILE"
    assert time.monotonic() - started >= 0.8


def test_a_server_error_on_a_read_is_retried_but_a_create_is_not_sent_twice(
    hub: HubEmulator, account: Account
) -> None:
    account.api.create_repo(SPACE, repo_type="space", space_sdk="docker")
    hub.inject_fault("GET", rf"/api/spaces/{SPACE}/runtime", status=502)
    assert client().call("space runtime", lambda api: api.get_space_runtime(SPACE)).stage == "NO_APP_FILE"
    hub.inject_fault("POST", r"/api/repos/create", status=503)
    with pytest.raises(SpacesError) as caught:
        client().call(
            "space create",
            lambda api: api.create_repo("alice/other", repo_type="space", space_sdk="docker"),
            idempotent=False,
        )
    assert caught.value.maybe_applied is True
    assert caught.value.attempts == 1


def test_retries_stop_when_the_time_budget_is_spent_and_say_so(hub: HubEmulator, account: Account) -> None:
    hub.inject_fault("GET", rf"/api/spaces/{SPACE}/runtime", status=503, times=1000)
    started = time.monotonic()
    with pytest.raises(SpacesError) as caught:
        client().call("space runtime", lambda api: api.get_space_runtime(SPACE))
    assert time.monotonic() - started <= retry.DEFAULT_BACKOFF.budget_s + 1
    message = str(caught.value)
    assert message.startswith(
        f"Hugging Face Hub error for space {SPACE} (space runtime): GET /api/spaces/{SPACE}/runtime answered HTTP 503"
    )
    assert "gave up after" in message
    assert "status.huggingface.co" in message


def test_an_unknown_token_is_explained_without_showing_it(
    hub: HubEmulator, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_token_the_hub_knows")
    with pytest.raises(SpacesError) as caught:
        client().call("space lookup", lambda api: api.space_info(SPACE))
    message = str(caught.value)
    assert caught.value.category == Category.AUTH
    assert '"Invalid credentials in Authorization header"' in message
    assert "https://huggingface.co/settings/tokens" in message
    assert "hf_not_a_token_the_hub_knows" not in message


def test_a_read_token_is_told_that_deploys_need_a_write_token(
    hub: HubEmulator, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", account.read_token)
    with pytest.raises(SpacesError) as caught:
        client().call(
            "space create", lambda api: api.create_repo(SPACE, repo_type="space", space_sdk="docker")
        )
    assert caught.value.category == Category.FORBIDDEN
    assert "deploys need a write token (not a read token)" in str(caught.value)


def test_hardware_the_account_cannot_pay_for_says_where_billing_is_set_up(
    hub: HubEmulator, account: Account
) -> None:
    hub.inject_fault("POST", r"/api/repos/create", status=402, message="Payment required for l40sx1")
    with pytest.raises(SpacesError) as caught:
        client().call(
            "space create", lambda api: api.create_repo(SPACE, repo_type="space", space_sdk="docker")
        )
    assert '"Payment required for l40sx1"' in str(caught.value)
    assert "https://huggingface.co/settings/billing" in str(caught.value)


def test_something_missing_is_none_for_find_and_a_not_found_error_for_call(account: Account) -> None:
    assert client().find("space lookup", lambda api: api.space_info("alice/nothing")) is None
    with pytest.raises(SpacesError) as caught:
        client().call("space lookup", lambda api: api.space_info("alice/nothing"))
    assert "pulumi refresh brings the state up to date" in str(caught.value)


def test_without_any_token_the_error_says_where_one_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    hub_client.forget_stack_config()
    with pytest.raises(SpacesError) as caught:
        client()
    assert "HF_TOKEN is not set and the stack has no hfToken secret" in str(caught.value)


def test_the_stack_config_supplies_endpoint_and_token_when_the_environment_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    hub_client.remember_stack_config(
        {"songgen-studio:hubEndpoint": "http://127.0.0.1:9/", "songgen-studio:hfToken": "hf_from_config"}
    )
    try:
        assert hub_client.endpoint() == "http://127.0.0.1:9"
        assert hub_client.token(Subject("space", SPACE)) == "hf_from_config"
        monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:8")
        assert hub_client.endpoint() == "http://127.0.0.1:8"
    finally:
        hub_client.forget_stack_config()


def test_an_error_survives_pickling_with_its_fields() -> None:
    err = SpacesError(
        Subject("bucket", "a/b"), message="gone", status=404, category=Category.NOT_FOUND, details="x"
    )
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - bytes made here
    assert str(copy) == str(err)
    assert (copy.status, copy.category, copy.details) == (404, Category.NOT_FOUND, "x")
