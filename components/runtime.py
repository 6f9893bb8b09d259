"""The contract between every platform and the Studio's image: where it listens, how it says it is up, where
its data lives, and the `SONGGEN_*` environment its entrypoint reads (docker/songgen_boot/__init__.py)."""

from __future__ import annotations

from components.catalog import ModelId
from components.settings import PlatformName

STUDIO_PORT = 7860
HEALTH_PATH = "/api/health"
# Where songs, uploads, the queue and (on platforms with a disk of their own) the model cache live.
DATA_PATH = "/data"


def studio_env(
    platform: PlatformName, *, models: list[ModelId], idle_stop_minutes: int, data_path: str = DATA_PATH
) -> dict[str, str]:
    """What every platform tells the entrypoint; a platform adds its own keys (weights mounts, keep-awake...)."""
    return {
        "PORT": str(STUDIO_PORT),
        "SONGGEN_PLATFORM": platform.value,
        "SONGGEN_DATA_DIR": data_path,
        "SONGGEN_MODELS": ",".join(model.value for model in models),
        "SONGGEN_IDLE_STOP_MINUTES": str(idle_stop_minutes),
    }
