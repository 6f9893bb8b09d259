"""What the Studio needs, whatever runs it: derived once from the settings, handed to the platform."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from components.catalog import MODELS, ModelId, cache_size_needed_gb
from components.settings import StudioSettings

# CPU RAM: the Studio was OOM-killed at 32 GB; 64 GB is what it runs comfortably in.
MIN_RAM_GB = 31
RECOMMENDED_RAM_GB = 64
# Low-memory mode needs at least 10 GB of free VRAM; the large model 22 GB.
MIN_VRAM_GB = 24


@dataclass(frozen=True)
class StudioSpec:
    stack: str
    # The stack's owner id (organization/project/stack): the marker on everything it makes.
    owner: str
    models: tuple[ModelId, ...]
    studio_commit: str
    songgen_commit: str
    idle_stop_minutes: int
    busy_hours_per_month: int
    hf_token: SecretStr | None
    data_protected: bool

    @classmethod
    def of(cls, settings: StudioSettings, owner: str) -> StudioSpec:
        return cls(
            stack=settings.stack,
            owner=owner,
            models=tuple(dict.fromkeys(settings.models)),
            studio_commit=settings.studio_commit,
            songgen_commit=settings.songgen_commit,
            idle_stop_minutes=settings.idle_stop_minutes,
            busy_hours_per_month=settings.busy_hours_per_month,
            hf_token=settings.hf_token,
            data_protected=settings.data_protected,
        )

    @property
    def vram_gb(self) -> int:
        """VRAM the chosen models need at the least (one loaded at a time)."""
        return max(MODELS[m].vram_gb for m in self.models)

    @property
    def cache_gb(self) -> int:
        """Disk for the runtime bundle and the models with headroom, where weights are downloaded."""
        return cache_size_needed_gb(list(self.models))
