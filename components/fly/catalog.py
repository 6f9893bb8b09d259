"""Facts about Fly.io that its settings, providers, prices and the emulator rely on, said once.

Sources: Fly's Machines API documentation, its GPU documentation as it stood before GPU Machines were withdrawn
(2026-08-01), and flyctl's "Remove the GPU surface" (2026-08-11).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

GPU_END_OF_LIFE = date(2026, 8, 1)
API_URL = "https://api.machines.dev/v1"
MAX_VOLUME_GB = 500
# App names are one global namespace of DNS labels (the app answers at <name>.fly.dev).
APP_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Memory a CPU may carry, by CPU kind (MB per CPU, low and high).
MEMORY_PER_CPU_MB = {"performance": (2048, 8192), "shared": (256, 2048)}

# Regions Fly served Machines from in late 2026.
REGIONS = frozenset(
    {
        "ams", "arn", "bom", "cdg", "dfw", "ewr", "fra", "gru", "iad",
        "jnb", "lax", "lhr", "nrt", "ord", "sin", "sjc", "syd", "yyz",
    }
)  # fmt: skip


class GpuKind(StrEnum):
    A10 = "a10"
    L40S = "l40s"
    A100_40GB = "a100-pcie-40gb"
    A100_80GB = "a100-sxm4-80gb"


@dataclass(frozen=True)
class GpuOffer:
    vram_gb: int
    regions: frozenset[str]


GPU_OFFERS: dict[GpuKind, GpuOffer] = {
    GpuKind.A10: GpuOffer(vram_gb=24, regions=frozenset({"ord"})),
    GpuKind.L40S: GpuOffer(vram_gb=48, regions=frozenset({"ord"})),
    GpuKind.A100_40GB: GpuOffer(vram_gb=40, regions=frozenset({"ord"})),
    GpuKind.A100_80GB: GpuOffer(vram_gb=80, regions=frozenset({"iad", "sjc", "syd", "ams"})),
}

GPU_END_OF_LIFE_FACT = (
    f"Fly.io stopped offering GPU Machines on {GPU_END_OF_LIFE.isoformat()}; its API now rejects any machine "
    "whose guest has a GPU with HTTP 400"
)
