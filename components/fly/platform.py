"""Fly.io as a place to run the Studio: its settings, what it no longer offers, its notices and its deploy."""

from __future__ import annotations

from collections.abc import Mapping

from components.platform import PlatformOf
from components.settings import PlatformName, StudioSettings

from . import studio
from .catalog import GPU_END_OF_LIFE_FACT
from .settings import FlySettings


class FlyPlatform(PlatformOf[FlySettings]):
    name = PlatformName.FLY
    unsupported: Mapping[str, str] = {
        "gpu": (
            f"{GPU_END_OF_LIFE_FACT}. The Fly path stays complete (the machine spec, volumes with the GPU "
            "placement hint); to run songs today, set songgen-studio:platform to spaces or kubernetes"
        ),
        "suspend": "a machine with a GPU cannot be suspended, only stopped",
    }

    def __init__(self) -> None:
        super().__init__(FlySettings, deploy=studio.deploy, stores=studio.stored_data)

    def notices(self, settings: StudioSettings) -> list[str]:
        fly = self.own(settings)
        if fly.emulated:
            return [
                f"This stack targets an emulated Fly API at {fly.fly_api_url}. {GPU_END_OF_LIFE_FACT}; the "
                "emulator does the same unless it was started with GPUs offered."
            ]
        return [
            f"{self.unsupported['gpu']}. `pulumi up` creates the app, its addresses, secrets and volumes, then "
            f"stops at the first machine ({fly.gpu_kind.value}); `pulumi destroy` removes what was created."
        ]


PLATFORM = FlyPlatform()
