"""App secrets provider against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from components.fly.app import AppProvider
from components.fly.secrets import AppSecretsProvider
from emulator.server import FlyEmulator

from .conftest import ORG, OWNER, Flyctl

APP = "songgen-sec"
VALUES = {"HF_TOKEN": "hf_value_one_123", "ADMIN_PASSWORD": "pw_value_two_456"}


@pytest.fixture
def app(emu: FlyEmulator) -> str:
    AppProvider().create({"name": APP, "org_slug": ORG, "owner": OWNER})
    return APP


def create(values: dict[str, str] = VALUES) -> dict[str, Any]:
    provider = AppSecretsProvider()
    checked = provider.check({}, {"app_name": APP, "values": dict(values)})
    assert checked.failures == []
    result = provider.create(checked.inputs)
    assert result.id == APP
    assert result.outs is not None
    return result.outs


def live_names(emu: FlyEmulator) -> list[str]:
    return sorted(s["name"] for s in emu.state()["apps"][APP]["secrets"]["secrets"])


def test_secrets_are_set_and_only_names_and_version_come_out(emu: FlyEmulator, app: str) -> None:
    outs = create()
    assert outs["keys"] == ["ADMIN_PASSWORD", "HF_TOKEN"]
    assert outs["version"] == 1
    assert "values" not in outs
    assert not any(value in repr(outs) for value in VALUES.values())
    assert live_names(emu) == ["ADMIN_PASSWORD", "HF_TOKEN"]


def test_diff_names_exactly_the_secret_keys_that_change(emu: FlyEmulator, app: str) -> None:
    outs = create()
    provider = AppSecretsProvider()
    assert not provider.diff(APP, outs, {"app_name": APP, "values": dict(VALUES)}).changes
    news = {"app_name": APP, "values": {"HF_TOKEN": "hf_new_value_789", "NEW_KEY": "v"}}
    diff = provider.diff(APP, outs, news)
    assert diff.changed_keys == ["values.ADMIN_PASSWORD", "values.HF_TOKEN", "values.NEW_KEY"]
    assert diff.replaces == []
    other_app = provider.diff(APP, outs, {"app_name": "songgen-other", "values": dict(VALUES)})
    assert other_app.replaces == ["app_name"]


def test_update_sets_changed_values_and_unsets_removed_keys(emu: FlyEmulator, app: str) -> None:
    outs = create()
    news = {"app_name": APP, "values": {"HF_TOKEN": "hf_new_value_789", "NEW_KEY": "v"}}
    emu.clear_requests()
    updated = AppSecretsProvider().update(APP, outs, news).outs
    assert updated is not None
    assert updated["keys"] == ["HF_TOKEN", "NEW_KEY"]
    assert updated["version"] == 2
    assert live_names(emu) == ["HF_TOKEN", "NEW_KEY"]
    [sent] = [r.body for r in emu.requests() if r.method == "POST"]
    assert sent["values"]["ADMIN_PASSWORD"] is None  # removed keys are unset with null
    assert set(sent["values"]) == {"HF_TOKEN", "NEW_KEY", "ADMIN_PASSWORD"}


def test_an_unchanged_update_sends_nothing(emu: FlyEmulator, app: str) -> None:
    outs = create()
    emu.clear_requests()
    AppSecretsProvider().update(APP, outs, {"app_name": APP, "values": dict(VALUES)})
    assert emu.requests() == []


def test_read_sees_secrets_unset_or_changed_outside_pulumi(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    outs = create()
    flyctl(
        "POST", f"/apps/{APP}/secrets", {"values": {"ADMIN_PASSWORD": None, "HF_TOKEN": "changed-by-hand"}}
    )
    refreshed = AppSecretsProvider().read(APP, outs)
    assert refreshed.outs is not None
    assert refreshed.outs["keys"] == ["HF_TOKEN"]  # still ours, though its value drifted
    diff = AppSecretsProvider().diff(APP, refreshed.outs, {"app_name": APP, "values": dict(VALUES)})
    assert diff.changed_keys == ["values.ADMIN_PASSWORD", "values.HF_TOKEN"]
    AppSecretsProvider().update(APP, refreshed.outs, {"app_name": APP, "values": dict(VALUES)})
    assert live_names(emu) == ["ADMIN_PASSWORD", "HF_TOKEN"]


def test_delete_unsets_our_keys_only_and_tolerates_a_deleted_app(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    outs = create()
    flyctl("POST", f"/apps/{APP}/secrets", {"values": {"SET_BY_HAND": "x"}})
    AppSecretsProvider().delete(APP, outs)
    assert live_names(emu) == ["SET_BY_HAND"]
    flyctl("DELETE", f"/apps/{APP}")
    AppSecretsProvider().delete(APP, outs)
    assert not AppSecretsProvider().read(APP, outs).id


def test_check_names_a_bad_key_without_echoing_any_value() -> None:
    failures = (
        AppSecretsProvider().check({}, {"app_name": APP, "values": {"bad-name": "s3cr3t", "OK": 5}}).failures
    )
    assert len(failures) == 2
    assert "s3cr3t" not in repr([f.reason for f in failures])


def test_delete_unsets_a_key_whose_value_was_changed_outside_pulumi(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    outs = create()
    flyctl("POST", f"/apps/{APP}/secrets", {"values": {"HF_TOKEN": "changed-by-hand"}})
    refreshed = AppSecretsProvider().read(APP, outs).outs or {}
    AppSecretsProvider().delete(APP, refreshed)
    assert live_names(emu) == []
