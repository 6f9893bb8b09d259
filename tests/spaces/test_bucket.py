"""The bucket provider against the Hub stand-in: named after its owner, adopted by that name, and loud about
the songs it holds when it goes."""

from __future__ import annotations

import pytest

from components.spaces.bucket import BucketProvider, bucket_name
from hub_emulator import HubEmulator
from tests.spaces.conftest import OTHER_OWNER, OWNER, Account, writes
from tests.spaces.steps import out_of

BUCKET = f"alice/{bucket_name(OWNER)}"


def props(bucket_id: str = BUCKET) -> dict[str, object]:
    return {"bucket_id": bucket_id, "private": True, "owner": OWNER}


def test_the_name_carries_the_stack_and_a_fingerprint_of_its_owner() -> None:
    assert bucket_name(OWNER).startswith("songgen-dev-")
    assert len(bucket_name(OWNER)) == len("songgen-dev-") + 10
    assert bucket_name(OTHER_OWNER) != bucket_name(OWNER)
    assert bucket_name("organization/another-project/dev") != bucket_name(OWNER)


def test_create_makes_a_private_bucket(hub: HubEmulator, account: Account) -> None:
    created = BucketProvider().create(props())
    assert created.id == BUCKET
    assert out_of(created)["files"] == 0
    assert hub.state()["buckets"][BUCKET]["private"] is True


def test_a_lost_create_answer_is_adopted_by_its_name(
    hub: HubEmulator, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.inject_fault("POST", rf"/api/buckets/{BUCKET}", status=502, after=True)
    assert BucketProvider().create(props()).id == BUCKET
    assert "its name carries the stack's fingerprint); adopted" in capsys.readouterr().err
    assert writes(hub).count(f"POST /api/buckets/{BUCKET}") == 1


def test_a_replacement_warns_in_the_preview_that_the_songs_go_with_the_old_bucket(
    capsys: pytest.CaptureFixture[str],
) -> None:
    diff = BucketProvider().diff(BUCKET, props(), props("bob/songgen-dev-0123456789"))
    assert diff.replaces == ["bucket_id"]
    assert (
        f"bucket {BUCKET}: replaced by a new, empty bucket; the songs, uploads and queue it holds are deleted "
        "with it" in capsys.readouterr().err
    )
    assert BucketProvider().diff(BUCKET, props(), props()).changes is False


def test_a_bucket_made_public_by_hand_is_seen_by_read_and_made_private_again(
    hub: HubEmulator, account: Account
) -> None:
    provider = BucketProvider()
    outs = out_of(provider.create(props()))
    account.api.update_bucket_settings(BUCKET, private=False)
    read = provider.read(BUCKET, outs)
    assert out_of(read)["private"] is False
    provider.update(BUCKET, out_of(read), props())
    assert hub.state()["buckets"][BUCKET]["private"] is True


def test_delete_says_how_many_files_go_with_the_bucket(
    hub: HubEmulator, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = BucketProvider()
    outs = out_of(provider.create(props()))
    hub.put_bucket_file(BUCKET, "output/first-song.flac", b"\x00" * 2_000_000)
    hub.put_bucket_file(BUCKET, "queue.json", "[]")
    provider.delete(BUCKET, outs)
    assert hub.leftovers() == []
    assert f"bucket {BUCKET}: deleted with its 2 file(s), 2.0 MB (the Studio's songs, uploads and queue)" in (
        capsys.readouterr().err
    )
    assert provider.read(BUCKET, outs).id == ""
    provider.delete(BUCKET, outs)  # gone already: nothing to do
