"""Adopt before create: what an earlier attempt made is taken up, never made twice."""

from __future__ import annotations

import time

import pytest

from components.dynamic import retry
from components.dynamic.adopt import create_or_adopt
from components.dynamic.api_error import ApiError, Subject


@pytest.fixture(autouse=True)
def _short_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "DEFAULT_BACKOFF", retry.Backoff(base_s=0.01, cap_s=0.01, budget_s=0.5))


def test_a_create_whose_answer_was_lost_is_looked_for_afresh_and_adopted() -> None:
    made: list[str] = []
    looks: list[bool] = []

    def find(fresh: bool) -> str | None:
        looks.append(fresh)
        return made[0] if made else None

    def create() -> str:
        made.append("thing")
        raise ApiError(Subject("thing", "t"), message="bad gateway", status=502, maybe_applied=True)

    assert create_or_adopt(find, create) == ("thing", True)
    assert looks == [False, True]
    assert made == ["thing"]


def test_what_is_found_first_is_adopted_without_a_create() -> None:
    def create() -> str:
        raise AssertionError("nothing may be created")

    assert create_or_adopt(lambda _fresh: "earlier", create) == ("earlier", True)


def test_a_refused_create_is_not_repeated() -> None:
    creates: list[int] = []

    def create() -> str:
        creates.append(1)
        raise ApiError(Subject("thing", "t"), message="invalid", status=400)

    with pytest.raises(ApiError):
        create_or_adopt(lambda _fresh: None, create)
    assert creates == [1]


def test_a_create_that_keeps_failing_gives_up_within_the_budget() -> None:
    started = time.monotonic()

    def create() -> str:
        raise ApiError(Subject("thing", "t"), message="unavailable", status=503, maybe_applied=True)

    with pytest.raises(ApiError):
        create_or_adopt(lambda _fresh: None, create)
    assert time.monotonic() - started <= 0.5 + 0.1
