"""App provider against the emulator."""

from __future__ import annotations

import pytest

from components.dynamic.errors import ProviderError
from components.fly import credentials
from components.fly.app import AppProvider, owner_network
from components.fly.errors import Category, FlyApiError
from emulator.server import FlyEmulator

from .conftest import ORG, OWNER, Flyctl

INPUTS: dict[str, object] = {"name": "songgen-app", "org_slug": ORG, "owner": OWNER}


def create(provider: AppProvider, inputs: dict[str, object] = INPUTS) -> tuple[str, dict[str, object]]:
    checked = provider.check({}, dict(inputs))
    assert checked.failures == []
    result = provider.create(checked.inputs)
    assert result.outs is not None
    return result.id, result.outs


def test_app_is_created_read_and_deleted(emu: FlyEmulator) -> None:
    provider = AppProvider()
    app_id, outs = create(provider)
    assert app_id == "songgen-app"
    assert outs["name"] == "songgen-app"
    assert outs["org_slug"] == ORG
    assert outs["status"] == "pending"
    assert "songgen-app" in emu.state()["apps"]

    read = provider.read(app_id, outs)
    assert read.id == app_id
    assert read.inputs == INPUTS

    provider.delete(app_id, outs)
    assert emu.billable() == []
    provider.delete(app_id, outs)  # already gone: still fine


def test_app_name_or_org_change_replaces_and_nothing_else_changes(emu: FlyEmulator) -> None:
    provider = AppProvider()
    _, outs = create(provider)
    assert not provider.diff("songgen-app", outs, dict(INPUTS)).changes

    renamed = provider.diff("songgen-app", outs, {**INPUTS, "name": "songgen-other"})
    assert renamed.changed_keys == ["name"]
    assert renamed.replaces == ["name"]
    assert not renamed.delete_before_replace  # a new name can exist beside the old one

    moved = provider.diff("songgen-app", outs, {**INPUTS, "org_slug": "acme"})
    assert moved.replaces == ["org_slug"]
    assert moved.delete_before_replace  # the same name cannot exist twice


def test_create_adopts_the_app_an_earlier_run_of_this_stack_made(emu: FlyEmulator) -> None:
    create(AppProvider())  # the run whose answer was lost
    app_id, outs = create(AppProvider())
    assert app_id == "songgen-app"
    assert outs["network"] == owner_network(OWNER)
    assert [r.method for r in emu.requests() if r.path == "/v1/apps"] == ["POST"]  # created once


def test_an_app_of_the_same_name_made_by_another_stack_is_refused_before_any_write(emu: FlyEmulator) -> None:
    create(AppProvider(), {**INPUTS, "owner": "organization/songgen-studio/dev"})
    emu.clear_requests()
    with pytest.raises(ProviderError) as caught:
        create(AppProvider(), {**INPUTS, "owner": "organization/songgen-studio/staging"})
    message = str(caught.value)
    assert message.startswith("songgen-studio:appName: the Fly app songgen-app already exists")
    assert "belongs to the stack 'dev'" in message
    assert "pulumi config set appName" in message
    assert [r.method for r in emu.requests() if r.method != "GET"] == []


def test_an_app_made_with_flyctl_is_never_adopted(emu: FlyEmulator, flyctl: Flyctl) -> None:
    flyctl("POST", "/apps", {"name": "songgen-app", "org_slug": ORG})
    with pytest.raises(ProviderError) as caught:
        create(AppProvider())
    assert "was not made by any stack of this project" in str(caught.value)
    assert "fly apps destroy songgen-app" in str(caught.value)


def test_a_name_taken_elsewhere_explains_that_names_are_global(emu: FlyEmulator) -> None:
    emu.reserve_app_name("songgen-app")
    with pytest.raises(FlyApiError) as caught:
        create(AppProvider())
    assert caught.value.category == Category.NAME_TAKEN
    assert "global" in str(caught.value)
    assert "app songgen-app" in str(caught.value)


def test_a_name_held_by_another_org_we_can_see_is_not_adopted(emu: FlyEmulator, flyctl: Flyctl) -> None:
    emu.add_org("acme")
    flyctl("POST", "/apps", {"name": "songgen-app", "org_slug": "acme"})
    with pytest.raises(FlyApiError) as caught:
        create(AppProvider())
    assert caught.value.category == Category.NAME_TAKEN
    assert "acme" in str(caught.value)


def test_read_reports_an_app_deleted_outside_pulumi_as_gone(emu: FlyEmulator, flyctl: Flyctl) -> None:
    provider = AppProvider()
    app_id, outs = create(provider)
    flyctl("DELETE", "/apps/songgen-app")
    read = provider.read(app_id, outs)
    assert not read.id
    assert read.outs == {}


def test_check_rejects_names_fly_would_reject() -> None:
    failures = AppProvider().check({}, {"name": "Songgen_App", "org_slug": "", "owner": "dev"}).failures
    assert {f.property for f in failures} == {"name", "org_slug", "owner"}


def test_missing_token_fails_with_how_to_set_one(emu: FlyEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(credentials.TOKEN_ENV)
    with pytest.raises(FlyApiError) as caught:
        create(AppProvider())
    assert "fly tokens create deploy" in str(caught.value)
    assert "pulumi config set --secret flyApiToken" in str(caught.value)
    assert emu.requests() == []
