"""Facts about Fly's GPU offer and the Studio's models that settings and the image rely on.

Sources: Fly's GPU documentation and pricing pages as they stood before GPU Machines were withdrawn
(2026-08-01), and the SongGeneration model cards on Hugging Face (sizes as published, GB = 10**9 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

GPU_END_OF_LIFE = date(2026, 8, 1)
FLY_API_URL = "https://api.machines.dev/v1"
HOURS_PER_MONTH = 730

# Regions Fly served Machines from in late 2026.
FLY_REGIONS = frozenset(
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


class ModelId(StrEnum):
    BASE = "base"
    BASE_NEW = "base-new"
    BASE_FULL = "base-full"
    LARGE = "large"


@dataclass(frozen=True)
class ModelInfo:
    hf_repo: str
    size_gb: float
    vram_gb: int


RUNTIME_BUNDLE = ModelInfo(hf_repo="lglg666/SongGeneration-Runtime", size_gb=15.1, vram_gb=0)

MODELS: dict[ModelId, ModelInfo] = {
    ModelId.BASE: ModelInfo(hf_repo="lglg666/SongGeneration-base", size_gb=11.3, vram_gb=10),
    ModelId.BASE_NEW: ModelInfo(hf_repo="lglg666/SongGeneration-base-new", size_gb=11.3, vram_gb=10),
    ModelId.BASE_FULL: ModelInfo(hf_repo="lglg666/SongGeneration-base-full", size_gb=11.3, vram_gb=12),
    ModelId.LARGE: ModelInfo(hf_repo="lglg666/SongGeneration-large", size_gb=20.5, vram_gb=22),
}

# Room on the cache volume beyond the weights: partial downloads, generated songs, uploads.
CACHE_HEADROOM = 1.2
CACHE_WORKSPACE_GB = 5


def cache_size_needed_gb(models: list[ModelId]) -> int:
    """Smallest volume, in whole GB, that holds the runtime bundle and these models with headroom."""
    weights = RUNTIME_BUNDLE.size_gb + sum(MODELS[m].size_gb for m in set(models))
    needed = weights * CACHE_HEADROOM + CACHE_WORKSPACE_GB
    return int(needed) + (0 if needed.is_integer() else 1)
