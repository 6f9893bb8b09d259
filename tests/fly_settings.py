"""A Fly stack's settings as the program loads them, typed as Fly's own model (tests only)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from components.fly.settings import FlySettings
from components.platforms import load_settings


def fly_settings(
    stack: str, raw: Mapping[str, Any] | None = None, secret_keys: Iterable[str] = ()
) -> FlySettings:
    settings = load_settings(stack, raw or {}, secret_keys=secret_keys).settings
    assert isinstance(settings, FlySettings)
    return settings
