"""Credentials and secret values stay where they belong: headers and the one request that sets them."""

from __future__ import annotations

import base64
import json
from typing import Any

import dill
import httpx
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from components.fly import credentials
from components.fly.app import AppProvider
from components.fly.errors import FlyApiError
from components.fly.ip import IpAssignmentProvider
from components.fly.machine import MachineProvider
from components.fly.provider import FlyProvider
from components.fly.secrets import AppSecretsProvider
from components.fly.volume import VolumeProvider
from emulator.server import FlyEmulator

from .conftest import ORG, OWNER, TOKEN, machine_config

APP = "songgen-safe"
VALUES = {"HF_TOKEN": "hf_secret_value_aaaa1111", "ADMIN_PASSWORD": "admin_secret_value_bbbb2222"}
NEEDLES = [TOKEN, *VALUES.values()]
PROVIDERS: list[type[FlyProvider]] = [
    AppProvider,
    IpAssignmentProvider,
    VolumeProvider,
    MachineProvider,
    AppSecretsProvider,
]


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Every request as it leaves the client (a spy on the real transport, which still does the work)."""
    sent: list[httpx.Request] = []
    original = httpx.Client.send

    def spy(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(request)
        return original(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", spy)
    return sent


def lifecycle() -> list[Any]:
    """Create, read, update and delete one of each kind; returns everything the providers handed back."""
    handed_back: list[Any] = []
    app = AppProvider().create({"name": APP, "org_slug": ORG, "owner": OWNER})
    secrets = AppSecretsProvider().create({"app_name": APP, "values": dict(VALUES)})
    ip = IpAssignmentProvider().create({"app_name": APP, "type": "v6", "region": None})
    volume = VolumeProvider().create(
        {"app_name": APP, "name": "data", "region": "ord", "size_gb": 5, "encrypted": True}
    )
    props = (
        MachineProvider()
        .check(
            {},
            {
                "app_name": APP,
                "owner": OWNER,
                "name": "m1",
                "region": "ord",
                "config": machine_config(mounts=[{"volume": volume.id, "path": "/data"}]),
                "secrets_version": secrets.outs["version"] if secrets.outs else None,
                "wait_timeout_s": 10,
            },
        )
        .inputs
    )
    machine = MachineProvider().create(props)
    handed_back += [app.outs, secrets.outs, ip.outs, volume.outs, machine.outs]
    rotated = {**VALUES, "HF_TOKEN": VALUES["HF_TOKEN"] + "-rotated"}
    NEEDLES.append(rotated["HF_TOKEN"])
    updated = AppSecretsProvider().update(APP, secrets.outs or {}, {"app_name": APP, "values": rotated})
    handed_back += [updated.outs, AppSecretsProvider().read(APP, updated.outs or {}).outs]
    handed_back += [MachineProvider().read(machine.id, machine.outs or {}).outs]
    MachineProvider().delete(machine.id, machine.outs or {})
    VolumeProvider().delete(volume.id, volume.outs or {})
    AppSecretsProvider().delete(APP, updated.outs or {})
    IpAssignmentProvider().delete(ip.id, ip.outs or {})
    AppProvider().delete(APP, app.outs or {})
    return handed_back


def test_no_token_or_secret_value_anywhere_but_where_it_must_go(
    emu: FlyEmulator, wire: list[httpx.Request], capfd: pytest.CaptureFixture[str]
) -> None:
    handed_back = lifecycle()
    assert emu.billable() == []

    for request in wire:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        assert request.headers["authorization"] == f"FlyV1 {TOKEN}"
        outside_body = str(request.url) + json.dumps(headers)
        assert not any(needle in outside_body for needle in NEEDLES)
        body = request.content.decode()
        assert TOKEN not in body
        if not (request.method == "POST" and request.url.path == f"/v1/apps/{APP}/secrets"):
            assert not any(value in body for value in NEEDLES), f"{request.method} {request.url.path}"

    recorded = json.dumps([r.as_dict() for r in emu.requests()])
    state = json.dumps(handed_back) + json.dumps(emu.state())
    logs = "".join(capfd.readouterr())
    assert "secrets songgen-safe" in logs  # progress lines were written...
    for needle in NEEDLES:
        assert needle not in recorded
        assert needle not in state
        assert needle not in logs  # ...without a token or a value in them


def test_errors_that_echo_a_token_or_value_are_scrubbed(emu: FlyEmulator) -> None:
    AppProvider().create({"name": APP, "org_slug": ORG, "owner": OWNER})
    echo = f"rejected {VALUES['HF_TOKEN']} sent with {TOKEN}"
    emu.inject_fault(method="POST", path=f"/v1/apps/{APP}/secrets", status=400, message=echo)
    with pytest.raises(FlyApiError) as caught:
        AppSecretsProvider().create({"app_name": APP, "values": dict(VALUES)})
    text = str(caught.value) + repr(caught.value.args) + caught.value.fly_message
    assert VALUES["HF_TOKEN"] not in text
    assert TOKEN not in text
    assert "[redacted]" in text


@pytest.mark.parametrize("provider_class", PROVIDERS)
def test_a_pickled_provider_carries_no_client_or_credential(provider_class: type[FlyProvider]) -> None:
    provider = provider_class()
    provider.configure(ConfigureRequest(Config({credentials.TOKEN_CONFIG: TOKEN}, "songgen-studio")))
    pickled = base64.b64decode(serialize_provider(provider))
    assert TOKEN.encode() not in pickled
    assert b"httpx" not in pickled
    assert len(pickled) < 300  # the class goes by reference, not by value
    restored = dill.loads(pickled)  # noqa: S301 - bytes this test just made
    assert type(restored) is provider_class
    assert vars(restored) == {}


def test_credentials_from_stack_config_reach_the_api(
    emu: FlyEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = emu.base_url
    monkeypatch.delenv(credentials.URL_ENV)
    monkeypatch.delenv(credentials.TOKEN_ENV)
    provider = AppProvider()
    config = {credentials.URL_CONFIG: url, credentials.TOKEN_CONFIG: f"FlyV1 {TOKEN}"}
    provider.configure(ConfigureRequest(Config(config, "project")))
    provider.create({"name": APP, "org_slug": ORG, "owner": OWNER})
    assert APP in emu.state()["apps"]
