"""Tokens with users and roles, repo ownership and privacy, as HfApi sees them."""

from __future__ import annotations

import json

import httpx
import pytest
from huggingface_hub import HfApi, SpaceHardware
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from hub_emulator import HubEmulator
from tests.hub_emulator.conftest import ORG, People
from tests.hub_emulator.helpers import create_space

pytestmark = pytest.mark.timeout(60)


def test_whoami_names_the_user_its_organisations_and_the_token_role(hub: HubEmulator, people: People) -> None:
    me = HfApi(endpoint=hub.url, token=people.alice).whoami()
    assert (me["type"], me["name"], me["fullname"]) == ("user", "alice", "Alice")
    assert [org["name"] for org in me["orgs"]] == [ORG]
    assert me["auth"]["accessToken"]["role"] == "write"
    assert HfApi(endpoint=hub.url, token=people.alice_read).whoami()["auth"]["accessToken"]["role"] == "read"


def test_an_unknown_token_is_401_with_the_hubs_sentence(hub: HubEmulator, people: People) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(endpoint=hub.url, token="hf_not_a_token_we_issued").whoami()
    assert caught.value.response.status_code == 401
    response = httpx.get(f"{hub.url}/api/spaces/alice/x", headers={"Authorization": "Bearer hf_nope"})
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid credentials in Authorization header"}
    assert response.headers["X-Error-Message"] == "Invalid credentials in Authorization header"


def test_a_read_token_is_refused_every_write_with_403(hub: HubEmulator, people: People, api: HfApi) -> None:
    create_space(api, "alice/mine")
    reader = HfApi(endpoint=hub.url, token=people.alice_read)
    assert reader.space_info("alice/mine").id == "alice/mine"
    for attempt in (
        lambda: reader.create_repo("alice/other", repo_type="space", space_sdk="docker"),
        lambda: reader.delete_repo("alice/mine", repo_type="space"),
        lambda: reader.request_space_hardware("alice/mine", SpaceHardware.L40SX1),
        lambda: reader.add_space_secret("alice/mine", "K", "v"),
    ):
        with pytest.raises(HfHubHTTPError) as caught:
            attempt()
        assert caught.value.response.status_code == 403
        assert "read-only" in str(caught.value)
    assert set(hub.state()["spaces"]) == {"alice/mine"}


def test_another_users_private_repo_is_not_found_and_their_public_one_is_read_only(
    hub: HubEmulator, people: People, api: HfApi
) -> None:
    create_space(api, "alice/secret", private=True)
    create_space(api, "alice/open")
    bob = HfApi(endpoint=hub.url, token=people.bob)
    with pytest.raises(RepositoryNotFoundError):
        bob.space_info("alice/secret")
    with pytest.raises(RepositoryNotFoundError):
        bob.delete_repo("alice/secret", repo_type="space")
    assert not bob.repo_exists("alice/secret", repo_type="space")
    assert bob.space_info("alice/open").private is False
    with pytest.raises(HfHubHTTPError) as caught:
        bob.delete_repo("alice/open", repo_type="space")
    assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as caught:
        bob.create_repo("alice/bobs", repo_type="space", space_sdk="docker")
    assert caught.value.response.status_code == 403


def test_members_of_an_organisation_manage_its_repos(hub: HubEmulator, people: People, api: HfApi) -> None:
    url = api.create_repo(f"{ORG}/studio", repo_type="space", space_sdk="docker", private=True)
    assert url.repo_id == f"{ORG}/studio"
    assert api.space_info(f"{ORG}/studio").private is True
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.url, token=people.bob).space_info(f"{ORG}/studio")
    api.delete_repo(f"{ORG}/studio", repo_type="space")
    assert hub.state()["spaces"] == {}


def test_anonymous_callers_read_public_repos_only(hub: HubEmulator, people: People, api: HfApi) -> None:
    create_space(api, "alice/open")
    create_space(api, "alice/secret", private=True)
    anonymous = HfApi(endpoint=hub.url, token=False)
    assert anonymous.space_info("alice/open").id == "alice/open"
    with pytest.raises(RepositoryNotFoundError) as caught:
        anonymous.space_info("alice/secret")
    assert caught.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as caught_write:
        anonymous.create_repo("alice/x", repo_type="space", space_sdk="docker")
    assert caught_write.value.response.status_code == 401


def test_the_request_log_says_whether_a_token_was_sent_and_never_what_it_was(
    hub: HubEmulator, people: People, api: HfApi
) -> None:
    create_space(api, "alice/open")
    HfApi(endpoint=hub.url, token=False).space_info("alice/open")
    records = [r for r in hub.requests() if r.path == "/api/spaces/alice/open"]
    assert [r.authorized for r in records] == [False]
    assert any(r.authorized for r in hub.requests())
    dumped = json.dumps([r.as_dict() for r in hub.requests()]) + json.dumps(hub.state())
    for token in (people.alice, people.alice_read, people.bob):
        assert token not in dumped
