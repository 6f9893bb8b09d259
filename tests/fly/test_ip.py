"""IP assignment provider against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from components.fly.app import AppProvider
from components.fly.ip import IpAssignmentProvider
from emulator.server import FlyEmulator

from .conftest import ORG, OWNER, Flyctl

APP = "songgen-ip"


@pytest.fixture
def app(emu: FlyEmulator) -> str:
    AppProvider().create({"name": APP, "org_slug": ORG, "owner": OWNER})
    return APP


def create(kind: str, region: str | None = None) -> tuple[str, dict[str, Any]]:
    provider = IpAssignmentProvider()
    checked = provider.check({}, {"app_name": APP, "type": kind, "region": region})
    assert checked.failures == []
    result = provider.create(checked.inputs)
    assert result.outs is not None
    return result.id, result.outs


def ips(emu: FlyEmulator) -> list[dict[str, Any]]:
    return emu.state()["ips"]  # type: ignore[no-any-return]


def test_first_deploy_addresses_are_allocated_read_and_released(emu: FlyEmulator, app: str) -> None:
    v6, v6_outs = create("v6")
    shared, shared_outs = create("shared_v4")
    assert ":" in v6
    assert v6_outs == {"app_name": APP, "type": "v6", "region": None, "address": v6}
    assert shared_outs["type"] == "shared_v4"
    assert sorted(ip["type"] for ip in ips(emu)) == ["shared_v4", "v6"]

    read = IpAssignmentProvider().read(v6, v6_outs)
    assert read.id == v6
    assert read.inputs == {"app_name": APP, "type": "v6", "region": None}

    IpAssignmentProvider().delete(v6, v6_outs)
    IpAssignmentProvider().delete(shared, shared_outs)
    assert ips(emu) == []
    IpAssignmentProvider().delete(v6, v6_outs)  # already released: still fine


def test_type_or_region_change_replaces_the_address(emu: FlyEmulator, app: str) -> None:
    address, outs = create("v6")
    provider = IpAssignmentProvider()
    assert not provider.diff(address, outs, {"app_name": APP, "type": "v6", "region": None}).changes
    dedicated = provider.diff(address, outs, {"app_name": APP, "type": "v4", "region": None})
    assert (dedicated.changed_keys, dedicated.replaces) == (["type"], ["type"])
    regional = provider.diff(address, outs, {"app_name": APP, "type": "v6", "region": "ord"})
    assert (regional.changed_keys, regional.replaces) == (["region"], ["region"])


def test_rerun_adopts_the_address_instead_of_allocating_another(emu: FlyEmulator, app: str) -> None:
    first, _ = create("v6")
    second, _ = create("v6")
    assert first == second
    assert len(ips(emu)) == 1


def test_read_reports_an_address_released_outside_pulumi_as_gone(
    emu: FlyEmulator, app: str, flyctl: Flyctl
) -> None:
    address, outs = create("v4")
    flyctl("DELETE", f"/apps/{APP}/ip_assignments/{address}")
    assert not IpAssignmentProvider().read(address, outs).id


def test_check_rejects_an_unknown_type() -> None:
    failures = IpAssignmentProvider().check({}, {"app_name": APP, "type": "v5"}).failures
    assert [f.property for f in failures] == ["type"]
