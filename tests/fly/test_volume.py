"""Volume provider against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from components.dynamic.errors import ProviderError
from components.fly.app import AppProvider
from components.fly.volume import VolumeProvider
from emulator.server import FlyEmulator

from .conftest import ORG, OWNER, Flyctl, new_run

APP = "songgen-vol"
COMPUTE = {"cpu_kind": "performance", "cpus": 8, "memory_mb": 65536, "gpu_kind": "a10"}
INPUTS: dict[str, Any] = {"app_name": APP, "name": "songgen_models", "region": "ord", "size_gb": 50}


@pytest.fixture
def app(emu: FlyEmulator) -> str:
    AppProvider().create({"name": APP, "org_slug": ORG, "owner": OWNER})
    return APP


def create(inputs: dict[str, Any] = INPUTS) -> tuple[str, dict[str, Any]]:
    provider = VolumeProvider()
    checked = provider.check({}, dict(inputs))
    assert checked.failures == []
    result = provider.create(checked.inputs)
    assert result.outs is not None
    return result.id, result.outs


def volumes(emu: FlyEmulator) -> dict[str, Any]:
    return emu.state()["volumes"]  # type: ignore[no-any-return]


def test_volume_is_created_encrypted_read_and_deleted(emu: FlyEmulator, app: str) -> None:
    volume_id, outs = create()
    assert volume_id.startswith("vol_")
    assert outs["volume_id"] == volume_id
    assert outs["size_gb"] == 50
    assert outs["encrypted"] is True
    assert outs["zone"]
    assert outs["needs_restart"] is False
    assert volumes(emu)[volume_id]["encrypted"] is True

    read = VolumeProvider().read(volume_id, outs)
    assert read.id == volume_id
    assert read.inputs is not None
    assert read.inputs["size_gb"] == 50
    assert not VolumeProvider().diff(volume_id, read.outs or {}, {**INPUTS, "encrypted": True}).changes

    VolumeProvider().delete(volume_id, outs)
    assert volumes(emu) == {}
    VolumeProvider().delete(volume_id, outs)  # already gone: still fine


def test_volume_grows_in_place(emu: FlyEmulator, app: str) -> None:
    volume_id, outs = create()
    news = VolumeProvider().check(INPUTS, {**INPUTS, "size_gb": 80}).inputs
    diff = VolumeProvider().diff(volume_id, outs, news)
    assert diff.changed_keys == ["size_gb"]
    assert diff.replaces == []
    updated = VolumeProvider().update(volume_id, outs, news).outs
    assert updated is not None
    assert updated["size_gb"] == 80
    assert updated["volume_id"] == volume_id
    assert volumes(emu)[volume_id]["size_gb"] == 80


def test_volume_never_shrinks_and_says_so_with_both_sizes(emu: FlyEmulator, app: str) -> None:
    volume_id, outs = create()
    smaller = {**INPUTS, "encrypted": True, "size_gb": 20}
    with pytest.raises(ProviderError) as caught:
        VolumeProvider().check({**INPUTS, "encrypted": True}, smaller)
    assert "volume songgen_models cannot shrink from 50 GB to 20 GB" in str(caught.value)
    assert "songgen-studio:volumeSizeGb" in str(caught.value)
    with pytest.raises(ProviderError, match="cannot shrink from 50 GB to 20 GB"):
        VolumeProvider().diff(volume_id, outs, smaller)


def test_smaller_size_is_fine_when_the_volume_is_replaced_anyway(emu: FlyEmulator, app: str) -> None:
    olds = {**INPUTS, "encrypted": True}
    news = {**olds, "name": "songgen_models_v2", "size_gb": 20}
    assert VolumeProvider().check(olds, news).failures == []


@pytest.mark.parametrize(
    ("change", "value"),
    [("name", "other_models"), ("region", "iad"), ("encrypted", False), ("compute", COMPUTE)],
)
def test_volume_identity_changes_replace_it_creating_the_new_one_first(
    emu: FlyEmulator, app: str, change: str, value: Any
) -> None:
    volume_id, outs = create()
    diff = VolumeProvider().diff(volume_id, outs, {**INPUTS, "encrypted": True, change: value})
    assert diff.changed_keys == [change]
    assert diff.replaces == [change]
    assert not diff.delete_before_replace  # its machine holds the old one until it moves


def test_compute_hint_compares_semantically_across_grpc_floats(emu: FlyEmulator, app: str) -> None:
    volume_id, outs = create({**INPUTS, "compute": COMPUTE})
    as_engine_sends = {**INPUTS, "encrypted": True, "compute": {**COMPUTE, "cpus": 8.0, "memory_mb": 65536.0}}
    assert not VolumeProvider().diff(volume_id, outs, as_engine_sends).changes
    assert volumes(emu)[volume_id]["compute"]["gpu_kind"] == "a10"


def test_snapshot_retention_updates_in_place(emu: FlyEmulator, app: str) -> None:
    volume_id, outs = create({**INPUTS, "snapshot_retention": 5})
    news = {**INPUTS, "encrypted": True, "snapshot_retention": 10}
    diff = VolumeProvider().diff(volume_id, outs, news)
    assert (diff.changed_keys, diff.replaces) == (["snapshot_retention"], [])
    VolumeProvider().update(volume_id, outs, news)
    assert volumes(emu)[volume_id]["snapshot_retention"] == 10


def test_read_sees_a_volume_extended_outside_pulumi(emu: FlyEmulator, app: str, flyctl: Flyctl) -> None:
    volume_id, outs = create()
    flyctl("PUT", f"/apps/{APP}/volumes/{volume_id}/extend", {"size_gb": 70})
    read = VolumeProvider().read(volume_id, outs)
    assert read.outs is not None
    assert read.inputs is not None
    assert read.outs["size_gb"] == 70
    assert read.inputs["size_gb"] == 70


def test_read_reports_a_volume_deleted_outside_pulumi_as_gone(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    volume_id, outs = create()
    flyctl("DELETE", f"/apps/{APP}/volumes/{volume_id}")
    assert not VolumeProvider().read(volume_id, outs).id


def test_a_create_whose_answer_was_lost_adopts_the_volume_instead_of_making_two(
    emu: FlyEmulator, app: str
) -> None:
    emu.inject_fault(method="POST", path=f"/v1/apps/{APP}/volumes", status=502, times=1, after=True)
    volume_id, _ = create()
    assert list(volumes(emu)) == [volume_id]


def test_a_rerun_after_a_failure_half_way_adopts_the_unattached_volume(emu: FlyEmulator, app: str) -> None:
    first, _ = create()
    new_run()
    second, _ = create()
    assert first == second
    assert list(volumes(emu)) == [first]
