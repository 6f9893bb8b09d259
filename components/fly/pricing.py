"""What a Fly stack costs: a dated price table and the estimate derived from the settings.

Machines are billed per second while started; volumes per provisioned GB while they exist, whether
the machine runs or not; a stopped machine's root filesystem per GB. The figures below are Fly's
published usage prices as they stood on PRICES_AS_OF (GPU prices from the 2026-02-11 reduction),
the last table that still listed GPUs. Fly no longer sells GPU Machines, so treat the GPU rows as
the reference for comparing with a GPU provider that exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from components.cost import CostEstimate

from .catalog import GpuKind
from .settings import CpuKind, FlySettings

PRICES_AS_OF = date(2026, 7, 31)
PRICES_SOURCE = (
    "https://fly.io/docs/about/pricing/ and https://fly.io/docs/gpus/ (GPU prices from 2026-02-11)"
)


@dataclass(frozen=True)
class PriceTable:
    # Per CPU-hour, with the RAM a CPU includes (performance: 2 GB, shared: 256 MB).
    cpu_hour: dict[CpuKind, float]
    included_ram_mb_per_cpu: dict[CpuKind, int]
    extra_ram_gb_hour: float
    gpu_hour: dict[GpuKind, float]
    volume_gb_month: float
    stopped_rootfs_gb_month: float


FLY_PRICES = PriceTable(
    cpu_hour={CpuKind.PERFORMANCE: 0.0431, CpuKind.SHARED: 0.00276},
    included_ram_mb_per_cpu={CpuKind.PERFORMANCE: 2048, CpuKind.SHARED: 256},
    extra_ram_gb_hour=0.00695,  # $5.00 per GB per 30 days
    gpu_hour={
        GpuKind.A10: 0.75,
        GpuKind.L40S: 0.70,
        GpuKind.A100_40GB: 1.25,
        GpuKind.A100_80GB: 1.50,
    },
    volume_gb_month=0.15,
    stopped_rootfs_gb_month=0.15,
)


def estimate(settings: FlySettings, *, image_size_gb: float, prices: PriceTable = FLY_PRICES) -> CostEstimate:
    """The running, idle and typical monthly cost of the machines, GPUs and volumes the settings declare."""
    machines = settings.machine_count
    included_mb = prices.included_ram_mb_per_cpu[settings.cpu_kind] * settings.cpus
    extra_ram_gb = max(0, settings.memory_mb - included_mb) / 1024
    machine_hour = (
        settings.cpus * prices.cpu_hour[settings.cpu_kind] + extra_ram_gb * prices.extra_ram_gb_hour
    )
    gpu_hour = settings.gpus * prices.gpu_hour[settings.gpu_kind]
    per_running_hour = machines * (machine_hour + gpu_hour)

    volumes_month = machines * settings.volume_size_gb * prices.volume_gb_month
    stopped_rootfs_month = machines * image_size_gb * prices.stopped_rootfs_gb_month
    return CostEstimate(
        per_running_hour=per_running_hour,
        per_idle_month=volumes_month + stopped_rootfs_month,
        busy_hours_per_month=settings.busy_hours_per_month,
        prices_as_of=PRICES_AS_OF.isoformat(),
        source=PRICES_SOURCE,
        breakdown={
            "machine_hour": machine_hour,
            "gpu_hour": gpu_hour,
            "volumes_month": volumes_month,
            "stopped_rootfs_month": stopped_rootfs_month,
        },
    )
