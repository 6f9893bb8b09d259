"""Facts about the Studio's models that every platform relies on.

Source: the SongGeneration model cards on Hugging Face (sizes as published, GB = 10**9 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

HOURS_PER_MONTH = 730


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
