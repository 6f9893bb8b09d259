"""Run-time settings: each value checked, all or nothing, unknown names refused."""

from __future__ import annotations

from typing import Any

import pytest

from standin.errors import InvalidRequestError
from standin.settings import Check, apply_settings, boolean, number, optional
from tests.standin.toy import ToyCore


def test_a_number_setting_takes_numbers_at_or_above_its_minimum() -> None:
    check = number(minimum=0.0)
    assert check("latency", 0) == 0.0
    assert isinstance(check("latency", 2), float)
    for bad in (-0.1, True, "1", float("inf")):
        with pytest.raises(InvalidRequestError):
            check("latency", bad)


def test_above_refuses_the_minimum_itself_and_whole_wants_an_integer() -> None:
    assert number(minimum=0.0, above=True)("rate", 0.5) == 0.5
    with pytest.raises(InvalidRequestError, match=r"rate must be above 0\.0"):
        number(minimum=0.0, above=True)("rate", 0)
    assert number(minimum=1, whole=True)("size", 3.0) == 3
    with pytest.raises(InvalidRequestError, match="size must be a whole number"):
        number(minimum=1, whole=True)("size", 2.5)
    with pytest.raises(InvalidRequestError, match="size must be at least 1"):
        number(minimum=1, whole=True)("size", 0)


def test_optional_accepts_none_and_boolean_accepts_only_booleans() -> None:
    assert optional(number(minimum=1.0))("bandwidth", None) is None
    assert boolean()("gpus", True) is True
    with pytest.raises(InvalidRequestError, match="gpus must be a boolean"):
        boolean()("gpus", 1)


def test_a_change_is_applied_only_when_every_value_passes() -> None:
    core = ToyCore()
    checks: dict[str, Check] = {"latency": number(minimum=0.0)}
    assert apply_settings(core, checks, {"latency": 0.25}) == {"latency": 0.25}
    bad: list[dict[str, Any]] = [{"latency": -1}, {"latency": 0.5, "colour": "red"}]
    for change in bad:
        with pytest.raises(InvalidRequestError):
            apply_settings(core, checks, change)
    assert core.settings.latency == 0.25


def test_an_unknown_setting_is_named_with_the_known_ones() -> None:
    with pytest.raises(InvalidRequestError, match="unknown settings: colour; known: latency"):
        apply_settings(ToyCore(), {"latency": number(minimum=0.0)}, {"colour": 1})
