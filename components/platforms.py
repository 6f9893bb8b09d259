"""Where the Studio can run, and the one place that maps a stack's `platform` setting to a platform package.

Nothing above the platform packages branches on the platform's name: they look it up here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from components.fly.platform import PLATFORM as FLY
from components.kubernetes.platform import PLATFORM as KUBERNETES
from components.platform import Platform
from components.settings import (
    PROJECT,
    Issue,
    LoadedSettings,
    PlatformName,
    SettingsError,
    StudioSettings,
    validate,
)
from components.spaces.platform import PLATFORM as SPACES

PLATFORMS: dict[PlatformName, Platform] = {FLY.name: FLY, KUBERNETES.name: KUBERNETES, SPACES.name: SPACES}


def platform_of(settings: StudioSettings) -> Platform:
    return PLATFORMS[settings.platform]


def load_settings(stack: str, raw: Mapping[str, Any], *, secret_keys: Iterable[str] = ()) -> LoadedSettings:
    """Validate a stack's raw config (keys without the project prefix) with its platform's settings model."""
    requested = raw.get("platform", PlatformName.FLY.value)
    try:
        name = PlatformName(requested)
        platform = PLATFORMS[name]
    except (ValueError, KeyError):
        known = ", ".join(repr(p.value) for p in PLATFORMS)
        raise SettingsError(
            stack, [Issue("platform", f"{requested!r} is not a platform; use one of {known}")]
        ) from None
    foreign = {
        alias: other.value
        for other, package in PLATFORMS.items()
        if other is not name
        for field, info in package.settings_model.model_fields.items()
        if (alias := info.alias or field) not in _aliases(platform.settings_model)
    }
    return validate(platform.settings_model, name, stack, raw, secret_keys=secret_keys, foreign=foreign)


def _aliases(model: type[StudioSettings]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def misplaced_keys(every: Iterable[str]) -> list[Issue]:
    """Config keys under a namespace that is this project's name misspelt (`songgen_studio:`, `SongGen-Studio:`)."""
    issues = []
    for key in every:
        namespace, _, name = key.partition(":")
        if name and namespace != PROJECT and namespace.lower().replace("_", "-") == PROJECT:
            issues.append(
                Issue(name, f"is set under {namespace}:, which Pulumi does not pass on; use {PROJECT}:{name}")
            )
    return issues


def from_stack_config() -> LoadedSettings:
    """The current stack's settings, from the config the engine handed to the program.

    FLY_API_URL in the environment wins over `flyApiUrl`, as it does for the providers.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    prefix = f"{PROJECT}:"
    every = runtime_config.CONFIG.get()
    raw = {key.removeprefix(prefix): value for key, value in every.items() if key.startswith(prefix)}
    secret = {key.removeprefix(prefix) for key in every if runtime_config.is_config_secret(key)}
    if (
        os.environ.get("FLY_API_URL")
        and raw.get("platform", PlatformName.FLY.value) == PlatformName.FLY.value
    ):
        raw["flyApiUrl"] = os.environ["FLY_API_URL"]
    misplaced = misplaced_keys(every)
    try:
        loaded = load_settings(pulumi.get_stack(), raw, secret_keys=secret)
    except SettingsError as err:
        raise SettingsError(err.stack, [*misplaced, *err.issues]) from None
    if misplaced:
        raise SettingsError(pulumi.get_stack(), misplaced)
    return loaded
