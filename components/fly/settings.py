"""A Fly stack's settings: the shared Studio settings plus Fly's own keys, with Fly's rules."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import Field, SecretStr

from components.catalog import MODELS, RUNTIME_BUNDLE, cache_size_needed_gb
from components.settings import (
    PROJECT,
    FieldRule,
    Issue,
    StudioSettings,
    http_url,
    image_reference,
    matches,
    valid,
)

from .catalog import API_URL, APP_NAME, GPU_OFFERS, MAX_VOLUME_GB, MEMORY_PER_CPU_MB, REGIONS, GpuKind

# The Studio was OOM-killed at 32 GB of RAM; 64 GB is what it runs comfortably in.
RECOMMENDED_MEMORY_MB = 65536
_ORG_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$|^[a-z0-9]$")


class CpuKind(StrEnum):
    PERFORMANCE = "performance"
    SHARED = "shared"


class Autostop(StrEnum):
    OFF = "off"
    STOP = "stop"
    SUSPEND = "suspend"


class ImageBuilder(StrEnum):
    LOCAL = "local"  # docker build here, push to registry.fly.io
    PREBUILT = "prebuilt"  # an existing reference, nothing is built
    FLY_REMOTE = "fly-remote"  # flyctl builds on Fly's remote builders


def _region(value: str) -> str:
    if value not in REGIONS:
        raise ValueError(f"{value!r} is not a Fly region; use one of {', '.join(sorted(REGIONS))}")
    return value


class FlySettings(StudioSettings):
    """A stack that deploys to Fly.io Machines."""

    FIELD_RULES: ClassVar[dict[str, FieldRule]] = {
        **StudioSettings.FIELD_RULES,
        "app_name": matches(
            APP_NAME, "1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit"
        ),
        "org": matches(_ORG_SLUG, "an organisation slug: lowercase letters, digits and hyphens"),
        "primary_region": _region,
        "image": image_reference,
        "fly_api_url": http_url,
    }
    STRUCTURED: ClassVar[frozenset[str]] = StudioSettings.STRUCTURED | {"machines"}
    SECRET: ClassVar[frozenset[str]] = StudioSettings.SECRET | {"fly_api_token"}

    app_name: str
    org: str = "personal"
    primary_region: str = "ord"
    # region -> number of machines there; unset: one machine in the primary region.
    machines: dict[str, Annotated[int, Field(ge=1, le=10)]] = Field(default_factory=dict)
    gpu_kind: GpuKind = GpuKind.A10
    gpus: Annotated[int, Field(ge=1, le=8)] = 1
    cpu_kind: CpuKind = CpuKind.PERFORMANCE
    cpus: Annotated[int, Field(ge=1, le=16)] = 8
    memory_mb: Annotated[int, Field(ge=256, multiple_of=256)] = RECOMMENDED_MEMORY_MB
    volume_size_gb: Annotated[int, Field(ge=1, le=MAX_VOLUME_GB)] = 50
    autostop: Autostop = Autostop.OFF
    autostart: bool = True
    min_machines_running: Annotated[int, Field(ge=0)] = 0
    image_builder: ImageBuilder = ImageBuilder.LOCAL
    image: str | None = None
    fly_api_url: str = API_URL
    # Read by the providers from the stack config (secret); declared so it is validated and never plain.
    fly_api_token: SecretStr | None = None

    @classmethod
    def stack_defaults(cls, stack: str) -> dict[str, Any]:
        return {"app_name": f"{PROJECT}-{stack}"}

    @property
    def machines_per_region(self) -> dict[str, int]:
        return self.machines or {self.primary_region: 1}

    @property
    def machine_count(self) -> int:
        return sum(self.machines_per_region.values())

    @property
    def emulated(self) -> bool:
        """True when the stack talks to something other than Fly itself (the emulator)."""
        return self.fly_api_url != API_URL

    def cross_checks(self, explicit: set[str]) -> list[Issue]:
        return [
            *super().cross_checks(explicit),
            *self._regions(),
            *self._memory(),
            *self._cache(),
            *self._proxy(),
            *self._image(explicit),
        ]

    def _regions(self) -> list[Issue]:
        if not (valid(self.machines, dict) and valid(self.primary_region, str)):
            return []
        bad = [region for region in self.machines if region not in REGIONS]
        if bad:
            return [
                Issue("machines", f"{', '.join(bad)}: not a Fly region; use {', '.join(sorted(REGIONS))}")
            ]
        offer = GPU_OFFERS.get(self.gpu_kind) if valid(self.gpu_kind, GpuKind) else None
        if offer is None:
            return []
        key = "machines" if self.machines else "primaryRegion"
        kind = self.gpu_kind.value
        return [
            Issue(
                key,
                f"{region!r} never had {kind} GPUs; {kind} was offered in {', '.join(sorted(offer.regions))}",
            )
            for region in self.machines_per_region
            if region not in offer.regions
        ]

    def _memory(self) -> list[Issue]:
        if not (valid(self.cpus, int) and valid(self.memory_mb, int) and valid(self.cpu_kind, CpuKind)):
            return []
        low, high = MEMORY_PER_CPU_MB[self.cpu_kind.value]
        if low * self.cpus <= self.memory_mb <= high * self.cpus:
            return []
        return [
            Issue(
                "memoryMb",
                f"{self.memory_mb} MB does not fit {self.cpus} {self.cpu_kind.value} CPU(s): "
                f"Fly allows {low}-{high} MB per CPU, so {low * self.cpus}-{high * self.cpus} MB",
            )
        ]

    def _cache(self) -> list[Issue]:
        if not (valid(self.models, list) and valid(self.volume_size_gb, int)):
            return []
        needed = cache_size_needed_gb(list(self.models))
        if self.volume_size_gb >= needed:
            return []
        names = ", ".join(f"{m.value} ({MODELS[m].size_gb} GB)" for m in dict.fromkeys(self.models))
        return [
            Issue(
                "volumeSizeGb",
                f"{self.volume_size_gb} GB cannot hold the runtime bundle ({RUNTIME_BUNDLE.size_gb} GB) "
                f"and {names} with headroom; set at least {needed}",
            )
        ]

    def _proxy(self) -> list[Issue]:
        issues = []
        if self.autostop is Autostop.SUSPEND:
            issues.append(Issue("autostop", "'suspend' does not work with GPU machines; use 'off' or 'stop'"))
        if (
            valid(self.min_machines_running, int)
            and valid(self.machines, dict)
            and valid(self.primary_region, str)
        ):
            declared = self.machine_count
            if self.min_machines_running > declared:
                issues.append(
                    Issue(
                        "minMachinesRunning",
                        f"{self.min_machines_running} is more than the {declared} machine(s) declared",
                    )
                )
        return issues

    def _image(self, explicit: set[str]) -> list[Issue]:
        issues = []
        if self.image_builder is ImageBuilder.PREBUILT and self.image is None:
            issues.append(
                Issue("image", "is required when imageBuilder is 'prebuilt'; give a reference with a tag")
            )
        if self.image is not None and "image" in explicit and self.image_builder is not ImageBuilder.PREBUILT:
            builder = self.image_builder.value if valid(self.image_builder, ImageBuilder) else "invalid"
            issues.append(
                Issue("imageBuilder", f"is {builder!r} but image is set; use 'prebuilt' with image")
            )
        return issues

    def warnings(self) -> list[str]:
        warnings = []
        if self.memory_mb < RECOMMENDED_MEMORY_MB:
            warnings.append(
                f"{PROJECT}:memoryMb is {self.memory_mb} MB; the Studio needs about {RECOMMENDED_MEMORY_MB} MB "
                "(it was OOM-killed at 32 GB)"
            )
        if self.autostop is not Autostop.OFF and self.idle_stop_minutes > 0:
            warnings.append(
                f"{PROJECT}:autostop is {self.autostop.value!r}: Fly's proxy may stop a machine while a song is "
                "being generated for a closed browser tab; the entrypoint's idle stop (idleStopMinutes) "
                "already scales to zero safely"
            )
        return warnings
