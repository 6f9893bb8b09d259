"""Buckets through HfApi (create, info, list, tree, delete) and files put in by the test, as songs would be."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub._buckets import BucketFile, BucketFolder
from huggingface_hub.errors import BadRequestError, BucketNotFoundError, HfHubHTTPError

from hub_emulator import HubEmulator, synthetic
from tests.hub_emulator.conftest import People

pytestmark = pytest.mark.timeout(60)


def test_a_bucket_is_created_listed_described_and_deleted(hub: HubEmulator, api: HfApi) -> None:
    url = api.create_bucket("songs", private=True)
    assert (url.bucket_id, url.namespace) == ("alice/songs", "alice")
    info = api.bucket_info("alice/songs")
    assert (info.id, info.private, info.size, info.total_files) == ("alice/songs", True, 0, 0)
    assert [b.id for b in api.list_buckets()] == ["alice/songs"]
    assert hub.billable() == ["bucket alice/songs (0 files, 0 bytes)"]
    api.delete_bucket("alice/songs")
    with pytest.raises(BucketNotFoundError):
        api.bucket_info("alice/songs")
    api.delete_bucket("alice/songs", missing_ok=True)
    assert hub.billable() == []
    assert hub.leftovers() == []


def test_creating_an_existing_bucket_is_409_unless_exist_ok(api: HfApi) -> None:
    api.create_bucket("alice/songs")
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_bucket("alice/songs")
    assert caught.value.response.status_code == 409
    assert api.create_bucket("alice/songs", exist_ok=True).bucket_id == "alice/songs"


def test_songs_put_on_the_bucket_are_listed_by_the_control_api_and_by_hfapi(
    hub: HubEmulator, api: HfApi
) -> None:
    api.create_bucket("alice/songs")
    hub.put_bucket_file("alice/songs", "output/song-1.flac", synthetic(4096, seed=1))
    hub.put_bucket_file("alice/songs", "output/song-2.flac", synthetic(2048, seed=2))
    hub.put_bucket_file("alice/songs", "queue.json", '{"queue": []}')
    assert hub.bucket_files("alice/songs") == {
        "output/song-1.flac": 4096,
        "output/song-2.flac": 2048,
        "queue.json": 13,
    }
    assert hub.read_bucket_file("alice/songs", "queue.json") == b'{"queue": []}'
    top = list(api.list_bucket_tree("alice/songs"))
    assert [(type(e).__name__, e.path) for e in top] == [
        ("BucketFolder", "output"),
        ("BucketFile", "queue.json"),
    ]
    songs = [e for e in api.list_bucket_tree("alice/songs", "output") if isinstance(e, BucketFile)]
    assert [(s.path, s.size) for s in songs] == [("output/song-1.flac", 4096), ("output/song-2.flac", 2048)]
    everything = list(api.list_bucket_tree("alice/songs", recursive=True))
    assert sum(isinstance(e, BucketFile) for e in everything) == 3
    assert sum(isinstance(e, BucketFolder) for e in everything) == 1
    assert api.bucket_info("alice/songs").total_files == 3


def test_another_users_private_bucket_is_not_found(hub: HubEmulator, people: People, api: HfApi) -> None:
    api.create_bucket("alice/songs", private=True)
    bob = HfApi(endpoint=hub.url, token=people.bob)
    with pytest.raises(BucketNotFoundError):
        bob.bucket_info("alice/songs")
    assert list(bob.list_buckets("alice")) == []


def test_bucket_uploads_through_xet_are_refused_not_faked(api: HfApi) -> None:
    api.create_bucket("alice/songs")
    with pytest.raises(BadRequestError, match="Xet"):
        api.batch_bucket_files("alice/songs", delete=["queue.json"])
