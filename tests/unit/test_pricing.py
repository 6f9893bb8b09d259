"""The cost estimate against figures worked out by hand from the dated price table."""

from __future__ import annotations

import pytest

from components.fly.catalog import GpuKind
from components.fly.pricing import FLY_PRICES, PRICES_AS_OF, estimate
from tests.fly_settings import fly_settings as fly


def test_one_a10_machine_with_64_gb_and_a_50_gb_volume() -> None:
    cost = estimate(fly("dev", {}), image_size_gb=6.0)
    # 8 performance CPUs include 16 GB: 8 * 0.0431 + 48 GB extra * 0.00695 = 0.3448 + 0.3336
    assert cost.breakdown["machine_hour"] == pytest.approx(0.6784)
    assert cost.breakdown["gpu_hour"] == pytest.approx(0.75)
    assert cost.per_running_hour == pytest.approx(1.4284)
    # 50 GB * 0.15 + 6 GB of stopped rootfs * 0.15
    assert cost.breakdown["volumes_month"] == pytest.approx(7.5)
    assert cost.breakdown["stopped_rootfs_month"] == pytest.approx(0.9)
    assert cost.per_idle_month == pytest.approx(8.4)
    assert cost.per_month_at_busy_hours == pytest.approx(8.4 + 40 * 1.4284)


def test_costs_scale_with_machines_and_gpu_kind() -> None:
    settings = fly(
        "prod",
        {
            "machines": '{"iad": 2}',
            "gpuKind": "a100-sxm4-80gb",
            "volumeSizeGb": "100",
            "studioCommit": "a" * 40,
            "songgenCommit": "b" * 40,
            "busyHoursPerMonth": "0",
        },
    )
    cost = estimate(settings, image_size_gb=6.0)
    assert cost.breakdown["gpu_hour"] == FLY_PRICES.gpu_hour[GpuKind.A100_80GB] == 1.50
    assert cost.per_running_hour == pytest.approx(2 * (0.6784 + 1.50))
    assert cost.per_idle_month == pytest.approx(2 * (100 * 0.15 + 6 * 0.15))
    assert cost.per_month_at_busy_hours == pytest.approx(cost.per_idle_month)


def test_the_estimate_says_when_and_where_its_prices_come_from() -> None:
    out = estimate(fly("dev", {}), image_size_gb=6.0).as_output()
    assert out["prices_as_of"] == PRICES_AS_OF.isoformat()
    assert "fly.io/docs/about/pricing" in str(out["source"])
    assert out["per_running_hour"] == 1.4284
