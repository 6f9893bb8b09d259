"""Adopt before create: a re-run after a failure half way, or a create whose answer was lost, takes up what the
earlier attempt made instead of making a second one (or failing on a name that is taken)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from . import retry
from .api_error import ApiError

T = TypeVar("T")


def create_or_adopt(find: Callable[[bool], T | None], create: Callable[[], T]) -> tuple[T, bool]:
    """Look before creating, and look again after an answer that may have been applied.

    `find(fresh)` decides what counts as this stack's own (and raises for what is someone else's). It may answer
    the first look from a listing taken once per process; after a failed create (`fresh` is True) it must look
    afresh. A create that failed in a way that may have taken effect (`maybe_applied`) is looked for and tried
    again within the call budget of `retry`. Returns the resource and whether it was adopted.
    """
    attempts = retry.Attempts()
    while True:
        found = find(attempts.count > 1)
        if found is not None:
            return found, True
        try:
            return create(), False
        except ApiError as err:
            if not (err.maybe_applied and attempts.retry()):
                raise
