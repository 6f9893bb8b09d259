"""Create, read and delete repos: Spaces with their settings, model repos, and the Hub's answers to conflicts."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi, SpaceHardware
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from hub_emulator import HubEmulator
from tests.hub_emulator.conftest import SPACE, People
from tests.hub_emulator.helpers import create_space

pytestmark = pytest.mark.timeout(60)


def test_a_new_docker_space_has_the_hubs_first_commit_and_no_app_file(hub: HubEmulator, api: HfApi) -> None:
    url = api.create_repo(
        SPACE,
        repo_type="space",
        space_sdk="docker",
        space_hardware=SpaceHardware.A10G_LARGE,
        space_sleep_time=600,
        private=True,
    )
    assert (url.repo_type, url.repo_id, url.endpoint) == ("space", SPACE, hub.url)
    info = api.space_info(SPACE)
    assert info.id == SPACE
    assert info.private is True
    assert info.sdk == "docker"
    assert info.host == hub.space_host(SPACE) == f"{hub.url}/__spaces/alice-studio"
    assert info.subdomain == "alice-studio"
    assert sorted(s.rfilename for s in info.siblings or []) == [".gitattributes", "README.md"]
    assert info.card_data is not None
    assert info.card_data.sdk == "docker"
    assert info.sha is not None
    assert len(info.sha) == 40
    assert info.runtime is not None
    assert info.runtime.stage == "NO_APP_FILE"
    assert info.runtime.requested_hardware == "a10g-large"
    assert info.runtime.hardware is None
    assert info.runtime.sleep_time == 600


def test_creating_an_existing_repo_is_409_and_exist_ok_accepts_it(api: HfApi) -> None:
    create_space(api)
    with pytest.raises(HfHubHTTPError) as caught:
        create_space(api)
    assert caught.value.response.status_code == 409
    again = api.create_repo(SPACE, repo_type="space", space_sdk="docker", exist_ok=True)
    assert again.repo_id == SPACE


def test_deleting_a_repo_makes_it_not_found_and_a_missing_one_is_repo_not_found(
    hub: HubEmulator, api: HfApi
) -> None:
    create_space(api)
    api.delete_repo(SPACE, repo_type="space")
    with pytest.raises(RepositoryNotFoundError):
        api.space_info(SPACE)
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo(SPACE, repo_type="space")
    api.delete_repo(SPACE, repo_type="space", missing_ok=True)
    assert hub.leftovers() == []


def test_spaces_other_than_docker_and_unknown_hardware_are_refused(api: HfApi) -> None:
    with pytest.raises(BadRequestError, match="only docker Spaces are modelled"):
        api.create_repo("alice/gr", repo_type="space", space_sdk="gradio")
    with pytest.raises(BadRequestError, match="not offered"):
        create_space(api, space_hardware="t4-small")
    with pytest.raises(BadRequestError, match="ZeroGPU"):
        create_space(api, space_hardware="zero-a10g")
    with pytest.raises(BadRequestError, match="sleep time"):
        create_space(api, space_sleep_time=0)
    with pytest.raises(RepositoryNotFoundError):
        api.space_info(SPACE)


def test_space_secrets_and_variables_can_be_set_at_creation(hub: HubEmulator, api: HfApi) -> None:
    create_space(
        api,
        space_secrets=[{"key": "HF_TOKEN", "value": "hf_value_for_the_space"}],
        space_variables=[{"key": "SONGGEN_MODEL", "value": "base", "description": "default model"}],
    )
    assert set(api.get_space_secrets(SPACE)) == {"HF_TOKEN"}
    variables = api.get_space_variables(SPACE)
    assert (variables["SONGGEN_MODEL"].value, variables["SONGGEN_MODEL"].description) == (
        "base",
        "default model",
    )
    assert hub.secret_matches(SPACE, "HF_TOKEN", "hf_value_for_the_space")
    with pytest.raises(BadRequestError, match="environment variable name"):
        create_space(api, "alice/bad", space_secrets=[{"key": "NOT VALID", "value": "x"}])


def test_model_repos_answer_info_at_main_and_at_any_commit(hub: HubEmulator, api: HfApi) -> None:
    api.create_repo("alice/weights")
    first = api.model_info("alice/weights")
    assert first.id == "alice/weights"
    assert [s.rfilename for s in first.siblings or []] == [".gitattributes"]
    second = api.upload_file(path_or_fileobj=b"a: 1\n", path_in_repo="config.yaml", repo_id="alice/weights")
    assert api.model_info("alice/weights").sha == second.oid != first.sha
    old = api.model_info("alice/weights", revision=first.sha)
    assert old.sha == first.sha
    assert [s.rfilename for s in old.siblings or []] == [".gitattributes"]
    with pytest.raises(RevisionNotFoundError):
        api.model_info("alice/weights", revision="v9")


def test_file_metadata_and_expand_follow_the_hubs_shapes(hub: HubEmulator, api: HfApi) -> None:
    hub.add_repo(
        "lglg666/SongGeneration-base", {"config.yaml": "sample_rate: 48000\n", "model.pt": b"\0" * 300}
    )
    info = api.model_info("lglg666/SongGeneration-base", files_metadata=True)
    siblings = {s.rfilename: s for s in info.siblings or []}
    assert siblings["config.yaml"].lfs is None
    assert siblings["config.yaml"].size == len("sample_rate: 48000\n")
    model = siblings["model.pt"]
    assert model.lfs is not None
    assert model.lfs.size == 300
    assert len(model.lfs.sha256) == 64
    expanded = api.model_info("lglg666/SongGeneration-base", expand=["sha", "private"])
    assert (expanded.sha, expanded.private, expanded.siblings) == (info.sha, False, None)
    with pytest.raises(BadRequestError, match="expand=downloadsAllTime"):
        api.model_info("lglg666/SongGeneration-base", expand=["downloadsAllTime"])


def test_another_users_namespace_cannot_be_written(hub: HubEmulator, people: People, api: HfApi) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_repo("bob/takeover", repo_type="space", space_sdk="docker")
    assert caught.value.response.status_code == 403
    assert "namespace bob" in str(caught.value)


def test_visibility_changes_in_place_and_hides_the_space_from_others(
    hub: HubEmulator, people: People, api: HfApi
) -> None:
    create_space(api)
    bob = HfApi(endpoint=hub.url, token=people.bob)
    assert bob.space_info(SPACE).private is False
    api.update_repo_settings(SPACE, repo_type="space", private=True)
    assert api.space_info(SPACE).private is True
    with pytest.raises(RepositoryNotFoundError):
        bob.space_info(SPACE)
    with pytest.raises(BadRequestError, match="gated"):
        api.update_repo_settings(SPACE, repo_type="space", gated="auto")


def test_paths_info_and_file_exists_describe_what_a_commit_holds(hub: HubEmulator, api: HfApi) -> None:
    hub.add_repo("lglg666/SongGeneration-base", {"ckpt/model.pt": b"\0" * 64, "config.yaml": "a: 1\n"})
    repo = "lglg666/SongGeneration-base"
    entries = api.get_paths_info(repo, ["config.yaml", "ckpt", "missing.txt", "ckpt/model.pt"])
    kinds = {e.path: type(e).__name__ for e in entries}
    assert kinds == {"config.yaml": "RepoFile", "ckpt": "RepoFolder", "ckpt/model.pt": "RepoFile"}
    assert api.file_exists(repo, "ckpt/model.pt")
    assert not api.file_exists(repo, "ckpt/other.pt")
