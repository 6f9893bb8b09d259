"""One typed, validated model of a stack's configuration.

Every value is checked before any resource is declared. Problems are collected, not raised one at a
time: a broken stack file gets one line per broken key, each naming the key, the value and what is
allowed. Defaults live here; a stack file sets only what differs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from components.catalog import HOURS_PER_MONTH, MODELS, RUNTIME_BUNDLE, ModelId, cache_size_needed_gb
from components.fly.catalog import API_URL as FLY_API_URL
from components.fly.catalog import GPU_OFFERS, MAX_VOLUME_GB, GpuKind
from components.fly.catalog import REGIONS as FLY_REGIONS

PROJECT = "songgen-studio"

# The pair known to work together: Tencent's "SongGeneration 2" (2026-03-02) breaks the Studio's patches.
DEFAULT_STUDIO_COMMIT = "e55c80cce76519691bd1ddd68dd58bbc0d537a37"
DEFAULT_SONGGEN_COMMIT = "10af9dbb63807afd749016d72782063c6a54ba66"

# The Studio was OOM-killed at 32 GB of RAM; 64 GB is what it runs comfortably in.
RECOMMENDED_MEMORY_MB = 65536
# Stacks that must name both upstream commits in their own file instead of inheriting defaults.
PINNED_STACKS = frozenset({"prod"})
# Stacks whose songs and model cache are protected by default (protectData): production by name.
PROD_LIKE = re.compile(r"^prod(uction)?([-_].*)?$")

_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
_ORG_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$|^[a-z0-9]$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
# registry/repository[:tag][@sha256:digest], with a tag or a digest required.
_IMAGE_REF = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


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


def _matches(pattern: re.Pattern[str], allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not valid: {allowed}")
        return value

    return check


def _region(value: str) -> str:
    if value not in FLY_REGIONS:
        raise ValueError(f"{value!r} is not a Fly region; use one of {', '.join(sorted(FLY_REGIONS))}")
    return value


def _url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


class _Validated(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid", use_enum_values=False
    )


class StackSettings(_Validated):
    """A stack's settings, as the config keys `songgen-studio:<camelCaseName>` give them."""

    stack: str
    app_name: str
    org: str = "personal"
    primary_region: str = "ord"
    # region -> number of machines there; defaults to one machine in the primary region.
    machines: dict[str, Annotated[int, Field(ge=1, le=10)]] = Field(default_factory=dict)
    gpu_kind: GpuKind = GpuKind.A10
    gpus: Annotated[int, Field(ge=1, le=8)] = 1
    cpu_kind: CpuKind = CpuKind.PERFORMANCE
    cpus: Annotated[int, Field(ge=1, le=16)] = 8
    memory_mb: Annotated[int, Field(ge=256, multiple_of=256)] = RECOMMENDED_MEMORY_MB
    models: Annotated[list[ModelId], Field(min_length=1)] = Field(default_factory=lambda: [ModelId.BASE])
    volume_size_gb: Annotated[int, Field(ge=1, le=MAX_VOLUME_GB)] = 50
    autostop: Autostop = Autostop.OFF
    autostart: bool = True
    min_machines_running: Annotated[int, Field(ge=0)] = 0
    idle_stop_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 15
    # For the cost estimate: hours a month the machines are expected to run.
    busy_hours_per_month: Annotated[int, Field(ge=0, le=HOURS_PER_MONTH)] = 40
    studio_commit: str = DEFAULT_STUDIO_COMMIT
    songgen_commit: str = DEFAULT_SONGGEN_COMMIT
    image_builder: ImageBuilder = ImageBuilder.LOCAL
    image: str | None = None
    hf_token: SecretStr | None = None
    fly_api_url: str = FLY_API_URL
    # Refuse changes that would replace stored songs and cache with empty storage; None: on for prod stacks.
    protect_data: bool | None = None

    @property
    def machine_regions(self) -> dict[str, int]:
        return self.machines or {self.primary_region: 1}

    @property
    def machine_count(self) -> int:
        return sum(self.machine_regions.values())

    @property
    def data_protected(self) -> bool:
        if self.protect_data is not None:
            return self.protect_data
        return bool(PROD_LIKE.match(self.stack))

    @property
    def emulated(self) -> bool:
        """True when the stack talks to something other than Fly itself (the emulator)."""
        return self.fly_api_url != FLY_API_URL


# Field-level rules beyond the types, applied to the raw value of one key.
_FIELD_RULES: dict[str, Callable[[str], str]] = {
    "app_name": _matches(_APP_NAME, "3-63 lowercase letters, digits and hyphens, starting with a letter"),
    "org": _matches(_ORG_SLUG, "an organisation slug: lowercase letters, digits and hyphens"),
    "primary_region": _region,
    "studio_commit": _matches(_COMMIT, "a full 40-character lowercase hex commit SHA"),
    "songgen_commit": _matches(_COMMIT, "a full 40-character lowercase hex commit SHA"),
    "image": _matches(_IMAGE_REF, "an image reference with a tag or a digest, e.g. registry.fly.io/app:tag"),
    "fly_api_url": _url,
}

_INVALID = object()

# Keys whose values arrive as JSON text when set with `pulumi config set --path` or as YAML objects.
_STRUCTURED = frozenset({"machines", "models"})


@dataclass(frozen=True)
class Issue:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{PROJECT}:{self.key}: {self.message}"


class SettingsError(Exception):
    """The stack's configuration is invalid; carries every problem found."""

    def __init__(self, stack: str, issues: list[Issue]) -> None:
        self.stack = stack
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(
            f"Pulumi.{stack}.yaml has {len(issues)} invalid setting(s); fix them and run again:\n{lines}"
        )


@dataclass(frozen=True)
class LoadedSettings:
    settings: StackSettings
    warnings: list[str]


def load_settings(
    stack: str,
    raw: Mapping[str, Any],
    *,
    secret_keys: Iterable[str] = (),
) -> LoadedSettings:
    """Validate `raw` (config key without the project prefix -> value) for `stack`.

    Raises SettingsError listing every problem; returns the settings and any warnings otherwise.
    """
    fields = StackSettings.model_fields
    by_alias = {(info.alias or name): name for name, info in fields.items() if name != "stack"}
    issues: list[Issue] = []
    values: dict[str, Any] = {}
    failed: dict[str, object] = {}

    for key, value in raw.items():
        name = by_alias.get(key)
        if name is None:
            known = ", ".join(sorted(by_alias))
            issues.append(Issue(key, f"unknown setting; the settings are: {known}"))
            continue
        parsed = _parse_field(name, value)
        if isinstance(parsed, Issue):
            issues.append(Issue(key, parsed.message))
            failed[name] = _INVALID
        else:
            values[name] = parsed

    values.setdefault("app_name", f"{PROJECT}-{stack}")
    secrets = set(secret_keys)
    if "hf_token" in values and "hfToken" not in secrets:
        issues.append(
            Issue("hfToken", "is stored in plain text; set it with `pulumi config set --secret hfToken`")
        )

    # Cross-field rules see defaults for unset keys and a marker for keys that failed above, so they
    # add their own findings without repeating those.
    draft = StackSettings.model_construct(stack=stack, **{**_defaults_with(values), **failed})
    issues += _cross_checks(draft, explicit=set(values) | set(failed))
    if issues:
        raise SettingsError(stack, issues)
    settings = StackSettings.model_validate({"stack": stack, **values})
    return LoadedSettings(settings, _warnings(settings))


def _parse_field(name: str, value: Any) -> Any:
    info = StackSettings.model_fields[name]
    alias = info.alias or name
    if name in _STRUCTURED and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return Issue(alias, f"{value!r} is not valid JSON/YAML structure")
    rule = _FIELD_RULES.get(name)
    try:
        if rule is not None and isinstance(value, str):
            rule(value)
        parsed = TypeAdapter[Any](info.rebuild_annotation()).validate_python(value)
    except ValueError as err:
        return Issue(alias, _describe(err, value))
    if name == "machines":
        bad = [region for region in parsed if region not in FLY_REGIONS]
        if bad:
            return Issue(alias, f"{', '.join(bad)}: not a Fly region; use {', '.join(sorted(FLY_REGIONS))}")
    return parsed


def _describe(err: ValueError, value: Any) -> str:
    if isinstance(err, ValidationError):
        parts = []
        for e in err.errors(include_url=False):
            where = ".".join(str(p) for p in e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            parts.append(f"{where}: {msg}" if where else msg)
        return f"{value!r} is invalid: " + "; ".join(parts)
    return str(err)


def _defaults_with(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in StackSettings.model_fields.items():
        if name == "stack":
            continue
        out[name] = values[name] if name in values else info.get_default(call_default_factory=True)
    return out


def _cross_checks(s: StackSettings, explicit: set[str]) -> list[Issue]:
    issues: list[Issue] = []
    offer = GPU_OFFERS.get(s.gpu_kind) if isinstance(s.gpu_kind, GpuKind) else None
    regions = s.machine_regions if isinstance(s.machines, dict) else {}

    if offer is not None:
        for region in regions:
            if region in FLY_REGIONS and region not in offer.regions:
                key = "machines" if s.machines else "primaryRegion"
                issues.append(
                    Issue(
                        key,
                        f"{region!r} never had {s.gpu_kind.value} GPUs; "
                        f"{s.gpu_kind.value} was offered in {', '.join(sorted(offer.regions))}",
                    )
                )

    if isinstance(s.cpus, int) and isinstance(s.memory_mb, int) and isinstance(s.cpu_kind, CpuKind):
        low, high = (2048, 8192) if s.cpu_kind is CpuKind.PERFORMANCE else (256, 2048)
        if not low * s.cpus <= s.memory_mb <= high * s.cpus:
            issues.append(
                Issue(
                    "memoryMb",
                    f"{s.memory_mb} MB does not fit {s.cpus} {s.cpu_kind.value} CPU(s): "
                    f"Fly allows {low}-{high} MB per CPU, so {low * s.cpus}-{high * s.cpus} MB",
                )
            )

    if isinstance(s.models, list) and all(isinstance(m, ModelId) for m in s.models):
        needed = cache_size_needed_gb(list(s.models))
        if isinstance(s.volume_size_gb, int) and s.volume_size_gb < needed:
            names = ", ".join(f"{m.value} ({MODELS[m].size_gb} GB)" for m in dict.fromkeys(s.models))
            issues.append(
                Issue(
                    "volumeSizeGb",
                    f"{s.volume_size_gb} GB cannot hold the runtime bundle ({RUNTIME_BUNDLE.size_gb} GB) "
                    f"and {names} with headroom; set at least {needed}",
                )
            )

    if s.autostop is Autostop.SUSPEND:
        issues.append(Issue("autostop", "'suspend' does not work with GPU machines; use 'off' or 'stop'"))
    if isinstance(s.min_machines_running, int) and s.min_machines_running > sum(regions.values() or [1]):
        issues.append(
            Issue(
                "minMachinesRunning",
                f"{s.min_machines_running} is more than the {sum(regions.values())} machine(s) declared",
            )
        )

    if s.image_builder is ImageBuilder.PREBUILT and s.image is None:
        issues.append(
            Issue("image", "is required when imageBuilder is 'prebuilt'; give a reference with a tag")
        )
    if s.image is not None and "image" in explicit and s.image_builder is not ImageBuilder.PREBUILT:
        issues.append(
            Issue("imageBuilder", f"is {s.image_builder.value!r} but image is set; use 'prebuilt' with image")
        )

    if s.stack in PINNED_STACKS:
        for name, key in (("studio_commit", "studioCommit"), ("songgen_commit", "songgenCommit")):
            if name not in explicit:
                issues.append(Issue(key, f"must be pinned in Pulumi.{s.stack}.yaml (a 40-hex commit SHA)"))
    return issues


def _warnings(s: StackSettings) -> list[str]:
    warnings = []
    if s.memory_mb < RECOMMENDED_MEMORY_MB:
        warnings.append(
            f"{PROJECT}:memoryMb is {s.memory_mb} MB; the Studio needs about {RECOMMENDED_MEMORY_MB} MB "
            "(it was OOM-killed at 32 GB)"
        )
    if s.autostop is not Autostop.OFF and s.idle_stop_minutes > 0:
        warnings.append(
            f"{PROJECT}:autostop is {s.autostop.value!r}: Fly's proxy may stop a machine while a song is "
            "being generated for a closed browser tab; the entrypoint's idle stop (idleStopMinutes) "
            "already scales to zero safely"
        )
    return warnings


def from_stack_config() -> LoadedSettings:
    """Load the current stack's settings from the config the engine handed to the program.

    FLY_API_URL in the environment wins over `flyApiUrl`, as it does for the providers.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    prefix = f"{PROJECT}:"
    every = runtime_config.CONFIG.get()
    raw = {key.removeprefix(prefix): value for key, value in every.items() if key.startswith(prefix)}
    secret = {key.removeprefix(prefix) for key in every if runtime_config.is_config_secret(key)}
    if os.environ.get("FLY_API_URL"):
        raw["flyApiUrl"] = os.environ["FLY_API_URL"]
    return load_settings(pulumi.get_stack(), raw, secret_keys=secret)
