"""What every Fly dynamic provider shares beyond components.dynamic: Fly's sense of sameness (its echoes, its
config shapes), its JSON numbers, one listing per process, and the client per call.

A provider object is pickled into the state: it keeps no attributes; clients are built per call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from components.dynamic import compare, host
from components.dynamic.api_error import Subject
from components.dynamic.provider import ApiProvider

from . import credentials
from .api import FlyClient

# In the provider process: our errors without tracebacks, and an exit once the engine is gone.
host.attach()

T = TypeVar("T")

# Fly echoes `autostop` back as a boolean when it was sent as "stop"/"off".
_AUTOSTOP = {True: "stop", False: "off"}
# Maps whose keys are the user's own: every key counts, including ones added outside Pulumi.
EXACT_MAPS = frozenset({"env", "metadata"})


def as_sent(key: str | None, value: Any) -> Any:
    """A value as it was sent to Fly, from Fly's echo of it (a boolean `autostop` is its string form)."""
    if key == "autostop" and isinstance(value, bool):
        return _AUTOSTOP[value]
    return value


def normalize(value: Any, key: str | None = None) -> Any:
    """The semantic form of a value as Fly means it (compare.normalize, with Fly's echoes undone)."""
    return compare.normalize(value, key, as_sent=as_sent)


def same(a: Any, b: Any) -> bool:
    """Semantic equality as Fly means it; anything not yet known is treated as different."""
    return compare.same(a, b, as_sent=as_sent)


def to_wire(value: Any) -> Any:
    """A value ready for Fly's JSON: integral floats back to ints (Fly's Go decoder rejects 8.0 for an int)."""
    if isinstance(value, Mapping):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def project(live: Any, desired: Any, key: str | None = None) -> Any:
    """What Fly has, in the shape of what we asked for: equal to `desired` when nothing drifted.

    Fly fills in defaults and extra fields; those are not drift. A value we set that Fly now holds differently,
    a key we set that is gone, or a key added to `env`/`metadata` is drift and shows through.
    """
    if isinstance(desired, Mapping) and isinstance(live, Mapping):
        out: dict[str, Any] = {}
        for k, want in desired.items():
            if normalize(want, k) in (None, {}, []):
                out[k] = want  # absent means "Fly's default": nothing to compare
            elif k in live:
                out[k] = project(live[k], want, k)
        if key in EXACT_MAPS:
            out.update({k: v for k, v in live.items() if k not in desired})
        return out
    if isinstance(desired, list) and isinstance(live, list) and len(desired) == len(live):
        return [project(lv, dv) for lv, dv in zip(live, desired, strict=True)]
    return desired if same({key or "": live}, {key or "": desired}) else live


_listings: dict[tuple[str, ...], Any] = {}
_listings_lock = threading.Lock()


def listed_once(key: tuple[str, ...], fetch: Callable[[], T], *, fresh: bool = False) -> T:
    """One listing per provider process (per API and app), shared by every create that looks before it makes.

    Twenty machines then cost one list of the app, not twenty (Fly rate-limits each action per app). A listing
    only says what *might* be adoptable: an earlier run's leftovers exist before this process starts, so they
    are in it; callers confirm a candidate with a fresh read before adopting it.
    """
    with _listings_lock:
        if fresh or key not in _listings:
            _listings[key] = fetch()
        listed: T = _listings[key]
        return listed


def forget_listings() -> None:
    with _listings_lock:
        _listings.clear()


class FlyProvider(ApiProvider):
    """Base for the Fly providers. Holds no state: everything it needs is read per call."""

    stack_config = credentials.STACK_CONFIG

    def client(self, name: str, *, redact: Iterable[str] = ()) -> FlyClient:
        return FlyClient(Subject(self.kind, name), redact=redact)
