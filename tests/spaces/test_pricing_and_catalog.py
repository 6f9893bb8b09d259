"""What a Spaces stack costs, and the facts its catalog shares with the Hub stand-in and the entrypoint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.catalog import ModelId
from components.spaces import catalog
from components.spaces.pricing import PRICES_AS_OF, PRICES_SOURCE, estimate
from hub_emulator import hardware
from tests.spaces.conftest import spaces_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("flavor", "hourly"), [("l40sx1", 1.80), ("a100-large", 2.50), ("a10g-large", 1.50)])
def test_a_running_hour_costs_the_flavors_price_and_an_idle_month_nothing(flavor: str, hourly: float) -> None:
    cost = estimate(spaces_settings(spaceHardware=flavor, busyHoursPerMonth=40))
    assert cost.per_running_hour == hourly
    assert cost.per_idle_month == 0.0
    assert cost.per_month_at_busy_hours == pytest.approx(40 * hourly)
    assert cost.breakdown == {"space_hour": hourly, "bucket_month": 0.0}


def test_the_price_table_is_dated_and_names_its_sources() -> None:
    output = estimate(spaces_settings()).as_output()
    assert output["prices_as_of"] == PRICES_AS_OF.isoformat() == "2026-11-01"
    assert "huggingface.co/docs/hub/spaces-gpus" in PRICES_SOURCE
    assert "$25/TB-month" in PRICES_SOURCE


def test_the_catalog_and_the_hub_stand_in_list_the_same_gpu_flavors() -> None:
    for name, flavor in catalog.FLAVORS.items():
        served = hardware.FLAVORS[name]
        assert (served.cpus, served.ram_gb, served.vram_gb, served.usd_per_hour) == (
            flavor.cpus,
            flavor.ram_gb,
            flavor.vram_gb,
            flavor.usd_per_hour,
        ), name


def test_models_are_mounted_under_the_directory_names_the_entrypoint_expects() -> None:
    config = (ROOT / "docker" / "songgen_boot" / "config.py").read_text()
    entrypoint = dict(re.findall(r'"(songgeneration_[a-z_]+)": \("lglg666/[^"]+", "([a-z-]+)"\)', config))
    assert entrypoint == {catalog.model_dir(m): m.value for m in ModelId}


def test_every_stage_huggingface_hub_knows_is_one_the_providers_handle() -> None:
    from huggingface_hub import SpaceStage

    assert {s.value for s in SpaceStage} <= {s.value for s in catalog.Stage}
