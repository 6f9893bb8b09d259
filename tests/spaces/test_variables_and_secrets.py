"""Variables and secrets against the Hub stand-in: only the stack's own keys, drift seen, values never kept."""

from __future__ import annotations

import json

import pytest

from components.dynamic.errors import ProviderError
from components.spaces.catalog import OWNER_VARIABLE
from components.spaces.secrets import SpaceSecretsProvider
from components.spaces.space import SpaceProvider
from components.spaces.variables import SpaceVariablesProvider
from hub_emulator import HubEmulator
from tests.spaces.conftest import Account, spaces_settings, writes
from tests.spaces.steps import out_of, space_props

SPACE = "alice/songgen-studio-dev"


@pytest.fixture
def space(account: Account) -> str:
    return SpaceProvider().create(space_props(spaces_settings())).id


def variables(hub: HubEmulator) -> dict[str, str]:
    found: dict[str, str] = hub.state()["spaces"][SPACE]["runtime"]["variables"]
    return found


def test_variables_change_only_the_stacks_own_keys(hub: HubEmulator, space: str, account: Account) -> None:
    provider = SpaceVariablesProvider()
    outs = out_of(provider.create({"repo_id": SPACE, "values": {"A": "1", "B": "2"}}))
    account.api.add_space_variable(SPACE, "BY_HAND", "kept")
    news = {"repo_id": SPACE, "values": {"A": "1", "B": "3", "C": "4"}}
    assert provider.diff(SPACE, outs, news).changed_keys == ["values.B", "values.C"]
    hub.clear_requests()
    outs = out_of(provider.update(SPACE, outs, news))
    assert writes(hub) == [f"POST /api/spaces/{SPACE}/variables"] * 2  # B and C, not A
    provider.update(SPACE, outs, {"repo_id": SPACE, "values": {"A": "1"}})
    assert variables(hub) == {"A": "1", "BY_HAND": "kept", OWNER_VARIABLE: "organization/songgen-studio/dev"}
    provider.delete(SPACE, {"repo_id": SPACE, "values": {"A": "1"}})
    assert set(variables(hub)) == {"BY_HAND", OWNER_VARIABLE}


def test_a_variable_changed_by_hand_shows_in_the_next_diff(space: str, account: Account) -> None:
    provider = SpaceVariablesProvider()
    outs = out_of(provider.create({"repo_id": SPACE, "values": {"SONGGEN_MODELS": "base"}}))
    account.api.add_space_variable(SPACE, "SONGGEN_MODELS", "large")
    read = provider.read(SPACE, outs)
    assert provider.diff(SPACE, out_of(read), outs).changed_keys == ["values.SONGGEN_MODELS"]


def test_the_owner_marker_is_not_a_variable_the_stack_may_set() -> None:
    check = SpaceVariablesProvider().check(
        {}, {"repo_id": SPACE, "values": {OWNER_VARIABLE: "x", "1BAD": "y"}}
    )
    assert sorted(f.reason for f in check.failures) == [
        "'1BAD' is not an environment variable name",
        f"{OWNER_VARIABLE} is the Space's marker (space.py)",
    ]


def test_a_secret_is_set_and_its_value_is_kept_nowhere_but_the_hub(hub: HubEmulator, space: str) -> None:
    outs = out_of(SpaceSecretsProvider().create({"repo_id": SPACE, "values": {"HF_TOKEN": "hf_first_value"}}))
    assert hub.secret_matches(SPACE, "HF_TOKEN", "hf_first_value")
    assert outs["keys"] == ["HF_TOKEN"]
    assert outs["version"] == 1
    assert "hf_first_value" not in json.dumps(outs)


def test_a_rotated_secret_is_set_again_and_its_version_goes_up(hub: HubEmulator, space: str) -> None:
    provider = SpaceSecretsProvider()
    outs = out_of(provider.create({"repo_id": SPACE, "values": {"HF_TOKEN": "hf_first_value"}}))
    same = {"repo_id": SPACE, "values": {"HF_TOKEN": "hf_first_value"}}
    rotated = {"repo_id": SPACE, "values": {"HF_TOKEN": "hf_second_value"}}
    assert provider.diff(SPACE, outs, same).changes is False
    assert provider.diff(SPACE, outs, rotated).changed_keys == ["values.HF_TOKEN"]
    outs = out_of(provider.update(SPACE, outs, rotated))
    assert hub.secret_matches(SPACE, "HF_TOKEN", "hf_second_value")
    assert outs["version"] == 2


def test_a_secret_set_or_removed_by_hand_is_set_again_by_the_next_up(space: str, account: Account) -> None:
    provider = SpaceSecretsProvider()
    outs = out_of(provider.create({"repo_id": SPACE, "values": {"HF_TOKEN": "hf_first_value"}}))
    wanted = {"repo_id": SPACE, "values": {"HF_TOKEN": "hf_first_value"}}
    account.api.add_space_secret(SPACE, "HF_TOKEN", "hf_set_by_hand")
    assert provider.diff(SPACE, out_of(provider.read(SPACE, outs)), wanted).changed_keys == [
        "values.HF_TOKEN"
    ]
    account.api.delete_space_secret(SPACE, "HF_TOKEN")
    assert provider.diff(SPACE, out_of(provider.read(SPACE, outs)), wanted).changed_keys == [
        "values.HF_TOKEN"
    ]


def test_a_refused_secret_names_the_space_and_never_the_value(hub: HubEmulator, space: str) -> None:
    hub.inject_fault(
        "POST", rf"/api/spaces/{SPACE}/secrets", status=400, message="value hf_leaky_value too long"
    )
    with pytest.raises(ProviderError) as caught:
        SpaceSecretsProvider().create({"repo_id": SPACE, "values": {"HF_TOKEN": "hf_leaky_value"}})
    message = str(caught.value)
    assert message.startswith(
        f"Hugging Face Hub error for secrets {SPACE} (secret set): POST /api/spaces/{SPACE}/secrets answered HTTP 400"
    )
    assert "hf_leaky_value" not in message
    assert "[redacted]" in message
