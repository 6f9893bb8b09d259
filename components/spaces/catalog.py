"""Facts about Hugging Face Spaces that the settings, providers and prices rely on, said once.

Sources: `huggingface_hub` 2.4 (`SpaceHardware`, `SpaceStage`, `Volume`) and the Hub's Spaces documentation as
read in late 2026 (FACTS.md section 4). Ephemeral disk sizes other than l40sx1 and a10g-large were not checked
against the live API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from components.catalog import MODELS, RUNTIME_BUNDLE, ModelId

HUB_URL = "https://huggingface.co"
DEFAULT_FLAVOR = "l40sx1"
# The Hub's repo and bucket name rule: letters, digits, '-', '_', '.', not starting or ending with '-' or '.',
# no '--' or '..', at most 96 characters. Namespaces (users, organisations) follow the same rule.
HUB_NAME = re.compile(r"(?!.*--)(?!.*\.\.)[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?")
COMMIT = re.compile(r"[0-9a-f]{40}")
# A revision that follows the repo's branch until the first deploy records the commit it points at.
FOLLOW_MAIN = "main"
# How long a Space may take to start after its build (front matter `startup_duration_timeout`).
STARTUP_TIMEOUT = "30m"
STARTUP_TIMEOUT_WITH_COPY = "1h"


@dataclass(frozen=True)
class Flavor:
    """A GPU hardware flavor as the Hub's table lists it (per hour, billed per minute while starting or running)."""

    name: str
    cpus: int
    ram_gb: int
    vram_gb: int
    disk_gb: int
    usd_per_hour: float


FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in (
        Flavor("a10g-small", cpus=4, ram_gb=15, vram_gb=24, disk_gb=110, usd_per_hour=1.00),
        Flavor("a10g-large", cpus=12, ram_gb=46, vram_gb=24, disk_gb=200, usd_per_hour=1.50),
        Flavor("l4x1", cpus=8, ram_gb=30, vram_gb=24, disk_gb=400, usd_per_hour=0.80),
        Flavor("l40sx1", cpus=8, ram_gb=62, vram_gb=48, disk_gb=380, usd_per_hour=1.80),
        Flavor("a100-large", cpus=12, ram_gb=142, vram_gb=80, disk_gb=1000, usd_per_hour=2.50),
    )
}


class Stage(StrEnum):
    """A Space's runtime stage (`huggingface_hub.SpaceStage`), with the sets the providers act on."""

    NO_APP_FILE = "NO_APP_FILE"
    CONFIG_ERROR = "CONFIG_ERROR"
    BUILDING = "BUILDING"
    BUILD_ERROR = "BUILD_ERROR"
    APP_STARTING = "APP_STARTING"
    RUNNING = "RUNNING"
    RUNNING_BUILDING = "RUNNING_BUILDING"
    RUNNING_APP_STARTING = "RUNNING_APP_STARTING"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    STOPPED = "STOPPED"
    PAUSED = "PAUSED"
    DELETING = "DELETING"


# A build or a start is under way: keep waiting.
IN_PROGRESS = frozenset(
    {Stage.BUILDING, Stage.APP_STARTING, Stage.RUNNING_BUILDING, Stage.RUNNING_APP_STARTING}
)
# The Space stopped on an error: the build log or the run log says why.
FAILED = frozenset({Stage.BUILD_ERROR, Stage.RUNTIME_ERROR, Stage.CONFIG_ERROR, Stage.NO_APP_FILE})
# Nothing runs and nothing starts until a visitor (STOPPED) or the owner (PAUSED) starts it.
AT_REST = frozenset({Stage.STOPPED, Stage.PAUSED})
# A container is starting or running: a restart applies new settings to it.
STARTED = frozenset({Stage.APP_STARTING, Stage.RUNNING, Stage.RUNNING_APP_STARTING})


# Where the weights and the songs are mounted in the container (docker/songgen_boot's Spaces contract).
WEIGHTS_DIR = "/weights"
RUNTIME_MOUNT = f"{WEIGHTS_DIR}/runtime"
DATA_MOUNT = "/data"
# Keep the bytecode and Hugging Face caches off the bucket: on the container's own disk.
LOCAL_CACHE_DIR = "/opt/songgen/local/cache"
# On SIGTERM (a restart that applies new settings) the entrypoint waits this long for running and queued
# songs. Whether the Hub waits that long before killing the container is not documented.
DRAIN_SECONDS = 300
# The Space variable that marks a Space as this stack's (see space.py).
OWNER_VARIABLE = "SONGGEN_OWNER"


def model_dir(model: ModelId) -> str:
    """The Studio's directory name of a model (`app/<model_id>`), under which it is mounted."""
    return "songgeneration_" + model.value.replace("-", "_")


def weight_key_repos() -> dict[str, str]:
    """Every weight repo the Studio may mount, by its key in `weightRevisions`: runtime and each model."""
    return {"runtime": RUNTIME_BUNDLE.hf_repo, **{m.value: MODELS[m].hf_repo for m in ModelId}}
