"""Changing a stand-in's settings at run time (the Python API's switches and POST <control>/settings): each
setting has a check that says what it accepts, and a change is applied only when every value passes.

    CHECKS = {"latency": number(minimum=0.0), "bandwidth": optional(number(minimum=0.0, above=True))}
    apply_settings(core, CHECKS, {"latency": 0.05})
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from standin.core import StandInCore
from standin.errors import InvalidRequestError

Check = Callable[[str, Any], Any]  # (name, value) -> the value to set; raises InvalidRequestError


def boolean() -> Check:
    def check(key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise InvalidRequestError(f"{key} must be a boolean")
        return value

    return check


def number(*, minimum: float, above: bool = False, whole: bool = False) -> Check:
    """A finite number no less than `minimum` (greater, with `above`); an int with `whole`, else a float."""

    def check(key: str, value: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidRequestError(f"{key} must be a number")
        if whole and not float(value).is_integer():
            raise InvalidRequestError(f"{key} must be a whole number")
        if value < minimum or (above and value == minimum):
            raise InvalidRequestError(f"{key} must be {'above' if above else 'at least'} {minimum}")
        return int(value) if whole else float(value)

    return check


def optional(check: Check) -> Check:
    """`check`, or None (which means "no limit" to the setting)."""
    return lambda key, value: None if value is None else check(key, value)


def apply_settings(
    core: StandInCore[Any, Any, Any], checks: Mapping[str, Check], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Check every change, then set them all under the core's lock; returns the settings as they now are."""
    unknown = set(changes) - set(checks)
    if unknown:
        raise InvalidRequestError(
            f"unknown settings: {', '.join(sorted(unknown))}; known: {', '.join(checks)}"
        )
    checked = {key: checks[key](key, value) for key, value in changes.items()}
    with core.lock:
        for key, value in checked.items():
            setattr(core.settings, key, value)
        snapshot: dict[str, Any] = core.settings.snapshot()
        return snapshot
