"""Volumes against the Hub stand-in: weights read-only at pinned commits, the bucket read-write, drift seen."""

from __future__ import annotations

from typing import Any

import pytest
from huggingface_hub import CommitOperationAdd, HfApi, Volume

from components.dynamic.errors import ProviderError
from components.spaces import studio
from components.spaces.bucket import BucketProvider
from components.spaces.space import SpaceProvider
from components.spaces.volumes import SpaceVolumesProvider
from hub_emulator import HubEmulator
from tests.spaces.conftest import OWNER, Account, spaces_settings
from tests.spaces.steps import out_of, space_props

SPACE = "alice/songgen-studio-dev"
RUNTIME = "lglg666/SongGeneration-Runtime"


@pytest.fixture
def bucket(account: Account) -> str:
    settings = spaces_settings()
    SpaceProvider().create(space_props(settings))
    bucket = studio.bucket_id(settings, OWNER)
    BucketProvider().create({"bucket_id": bucket, "private": True, "owner": OWNER})
    return bucket


def wanted(bucket: str, **settings: Any) -> dict[str, Any]:
    return {"repo_id": SPACE, "mounts": studio.mounts(spaces_settings(**settings), bucket)}


def live(hub: HubEmulator) -> list[dict[str, object]]:
    found: list[dict[str, object]] = hub.state()["spaces"][SPACE]["runtime"]["volumes"]
    return found


def push_to_main(hub: HubEmulator, repo: str) -> str:
    """The weights' owner pushes a new commit to main."""
    hub.add_user("lglg666")
    api = HfApi(endpoint=hub.url, token=hub.new_token("lglg666"))
    operation = CommitOperationAdd(path_in_repo="NOTES.md", path_or_fileobj=b"new\n")
    return str(api.create_commit(repo, [operation], commit_message="push").oid)


def test_main_is_mounted_at_the_commit_it_points_at_and_stays_there_after_a_push(
    hub: HubEmulator, account: Account, bucket: str
) -> None:
    provider = SpaceVolumesProvider()
    outs = out_of(provider.create(wanted(bucket)))
    pinned = account.weights[RUNTIME]
    assert live(hub)[0] == {"type": "model", "source": RUNTIME, "mountPath": "/weights/runtime",
                            "revision": pinned, "readOnly": True}  # fmt: skip
    assert live(hub)[-1] == {"type": "bucket", "source": bucket, "mountPath": "/data", "readOnly": False}

    push_to_main(hub, RUNTIME)
    assert provider.diff(SPACE, out_of(provider.read(SPACE, outs)), wanted(bucket)).changes is False
    provider.update(SPACE, outs, wanted(bucket, models=["base", "large"]))
    assert live(hub)[0]["revision"] == pinned  # adding a model re-pins nothing
    assert [v["mountPath"] for v in live(hub)] == [
        "/weights/runtime", "/weights/models/songgeneration_base", "/weights/models/songgeneration_large", "/data"
    ]  # fmt: skip


def test_a_commit_named_in_the_settings_is_mounted_as_named(
    hub: HubEmulator, account: Account, bucket: str
) -> None:
    newer = push_to_main(hub, RUNTIME)
    SpaceVolumesProvider().create(wanted(bucket, weightRevisions={"runtime": account.weights[RUNTIME]}))
    assert live(hub)[0]["revision"] == account.weights[RUNTIME] != newer


def test_mounts_changed_by_hand_show_in_the_next_diff_and_delete_removes_them(
    hub: HubEmulator, account: Account, bucket: str
) -> None:
    provider = SpaceVolumesProvider()
    outs = out_of(provider.create(wanted(bucket)))
    account.api.set_space_volumes(
        SPACE, [Volume(type="model", source=RUNTIME, mount_path="/weights/runtime")]
    )
    read = out_of(provider.read(SPACE, outs))
    assert provider.diff(SPACE, read, wanted(bucket)).changed_keys == ["mounts"]
    provider.update(SPACE, read, wanted(bucket))
    assert len(live(hub)) == 3
    provider.delete(SPACE, outs)
    assert "volumes" not in hub.state()["spaces"][SPACE]["runtime"]


def test_a_weight_repo_the_hub_lacks_is_refused_in_the_hubs_words(account: Account, bucket: str) -> None:
    props = wanted(bucket)
    props["mounts"][0]["source"] = "lglg666/nope"
    with pytest.raises(ProviderError) as caught:
        SpaceVolumesProvider().create(props)
    assert "lglg666/nope" in str(caught.value)
    assert str(caught.value).startswith(f"Hugging Face Hub error for volumes {SPACE} (weights revision)")
