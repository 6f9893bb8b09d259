"""The Space provider against the Hub stand-in, through the real HfApi: create, adopt, refuse, diff, update,
read, delete."""

from __future__ import annotations

import pytest
from huggingface_hub import SpaceHardware

from components.dynamic.errors import ProviderError
from components.spaces.catalog import OWNER_VARIABLE
from components.spaces.space import SpaceProvider
from hub_emulator import HubEmulator
from tests.spaces.conftest import OTHER_OWNER, OWNER, Account, spaces_settings, writes
from tests.spaces.steps import out_of, space_props

SPACE = "alice/songgen-studio-dev"


def runtime(hub: HubEmulator) -> dict[str, object]:
    state: dict[str, object] = hub.state()["spaces"][SPACE]["runtime"]
    return state


def test_create_makes_a_private_docker_space_marked_with_the_owner_that_bills_nothing_yet(
    hub: HubEmulator, account: Account
) -> None:
    created = SpaceProvider().create(space_props(spaces_settings()))
    assert created.id == SPACE
    assert out_of(created)["host"] == hub.space_host(SPACE)
    space = hub.state()["spaces"][SPACE]
    assert space["private"] is True
    assert runtime(hub)["stage"] == "NO_APP_FILE"
    assert runtime(hub)["hardware"] == {"current": None, "requested": "l40sx1"}
    assert runtime(hub)["gcTimeout"] == 900
    assert runtime(hub)["variables"] == {OWNER_VARIABLE: OWNER}
    assert hub.billable() == []
    assert [w for w in writes(hub) if w.startswith("POST")] == ["POST /api/repos/create"]


def test_a_lost_create_answer_is_adopted_by_the_owner_marker_not_made_twice(
    hub: HubEmulator, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.inject_fault("POST", r"/api/repos/create", status=503, after=True)
    created = SpaceProvider().create(space_props(spaces_settings()))
    assert created.id == SPACE
    assert "made by this stack in an earlier run; adopted" in capsys.readouterr().err
    assert writes(hub).count("POST /api/repos/create") == 1


def test_a_space_of_another_stack_is_refused_before_any_write(hub: HubEmulator, account: Account) -> None:
    SpaceProvider().create(space_props(spaces_settings(), owner=OTHER_OWNER))
    hub.clear_requests()
    with pytest.raises(ProviderError) as caught:
        SpaceProvider().create(space_props(spaces_settings()))
    message = str(caught.value)
    assert message.startswith(
        f"songgen-studio:spaceName: the Space {SPACE} already exists and belongs to the stack 'staging'"
    )
    assert "this stack (dev) leaves it alone and changed nothing" in message
    assert "pulumi config set spaceName <name>" in message
    assert writes(hub) == []


def test_a_space_made_by_hand_is_refused_with_where_to_delete_it(hub: HubEmulator, account: Account) -> None:
    account.api.create_repo(SPACE, repo_type="space", space_sdk="docker")
    with pytest.raises(ProviderError) as caught:
        SpaceProvider().create(space_props(spaces_settings()))
    assert f"has no {OWNER_VARIABLE} variable: it was made by hand or by another tool" in str(caught.value)
    assert f"{hub.url}/spaces/{SPACE}/settings" in str(caught.value)


def test_a_space_this_token_cannot_manage_is_refused(hub: HubEmulator, account: Account) -> None:
    bob = hub.new_token("bob")
    from huggingface_hub import HfApi

    HfApi(endpoint=hub.url, token=bob).create_repo(
        "bob/songgen-studio-dev", repo_type="space", space_sdk="docker"
    )
    with pytest.raises(ProviderError) as caught:
        SpaceProvider().create(space_props(spaces_settings(hfNamespace="bob")))
    assert "the Space bob/songgen-studio-dev exists and this token cannot manage it" in str(caught.value)
    assert "pulumi config set spaceName <name>" in str(caught.value)


def test_a_new_name_replaces_while_hardware_sleep_and_privacy_change_in_place() -> None:
    provider, olds = SpaceProvider(), space_props(spaces_settings())
    assert provider.diff(SPACE, olds, {**olds, "repo_id": "alice/other"}).replaces == ["repo_id"]
    in_place = provider.diff(
        SPACE, olds, {**olds, "hardware": "a100-large", "sleep_seconds": 60.0 * 30, "private": False}
    )
    assert (in_place.changed_keys, in_place.replaces) == (["hardware", "sleep_seconds", "private"], [])
    assert (
        provider.diff(SPACE, olds, {**olds, "sleep_seconds": 900.0}).changes is False
    )  # a number across gRPC
    assert provider.diff(SPACE, olds, {**olds, "owner": OTHER_OWNER}).changes is False


def test_update_changes_hardware_sleep_time_and_privacy_with_one_call_each(
    hub: HubEmulator, account: Account
) -> None:
    provider = SpaceProvider()
    olds = out_of(provider.create(space_props(spaces_settings())))
    hub.clear_requests()
    news = {**olds, "hardware": "a100-large", "private": False}
    provider.update(SPACE, olds, news)
    assert runtime(hub)["hardware"] == {"current": None, "requested": "a100-large"}
    assert hub.state()["spaces"][SPACE]["private"] is False
    assert writes(hub) == [f"POST /api/spaces/{SPACE}/hardware", f"PUT /api/spaces/{SPACE}/settings"]
    hub.clear_requests()
    provider.update(SPACE, news, {**news, "sleep_seconds": 3600})
    assert runtime(hub)["gcTimeout"] == 3600
    assert writes(hub) == [f"POST /api/spaces/{SPACE}/sleeptime"]


def test_read_reports_changes_made_by_hand_and_a_deleted_space_as_gone(
    hub: HubEmulator, account: Account
) -> None:
    provider = SpaceProvider()
    outs = out_of(provider.create(space_props(spaces_settings())))
    account.api.request_space_hardware(SPACE, SpaceHardware.A10G_LARGE)
    read = provider.read(SPACE, outs)
    assert read.inputs is not None
    assert read.inputs["hardware"] == "a10g-large"
    assert provider.diff(SPACE, outs, out_of(read)).changed_keys == ["hardware"]
    account.api.delete_repo(SPACE, repo_type="space")
    assert provider.read(SPACE, outs).id == ""


def test_delete_removes_the_space_but_leaves_one_remade_by_another_owner(
    hub: HubEmulator, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = SpaceProvider()
    outs = out_of(provider.create(space_props(spaces_settings())))
    provider.delete(SPACE, outs)
    assert hub.leftovers() == []
    provider.delete(SPACE, outs)  # already gone: nothing to do
    provider.create(space_props(spaces_settings(), owner=OTHER_OWNER))
    provider.delete(SPACE, outs)
    assert hub.leftovers() == [f"space {SPACE} (NO_APP_FILE, l40sx1)"]
    assert "no longer the Space this stack made" in capsys.readouterr().err
