"""What every Fly dynamic provider shares: semantic comparison, precise diffs, adopt-before-create, credentials.

Facts of the Python dynamic provider protocol this relies on:
- `diff(id, olds, news)` and `update(id, olds, news)` get the *old outputs* and the new inputs, so every provider
  returns its inputs among its outputs (in the same form) and compares like with like.
- In preview, inputs that are not known yet arrive as `pulumi.output.Unknown`.
- A provider object is pickled into the state: it keeps no attributes; clients are built per call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from pulumi.dynamic import ConfigureRequest, DiffResult, ReadResult, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime import rpc

from components.dynamic import host

from . import api, credentials
from .api import FlyClient
from .errors import FlyApiError, Subject

# In the provider process: our errors without tracebacks, and an exit once the engine is gone.
host.attach()

T = TypeVar("T")

# Fly echoes `autostop` back as a boolean when it was sent as "stop"/"off".
_AUTOSTOP = {True: "stop", False: "off"}
# Maps whose keys are the user's own: every key counts, including ones added outside Pulumi.
EXACT_MAPS = frozenset({"env", "metadata"})


class FlyDiffResult(DiffResult):
    """A DiffResult that also names exactly which properties change.

    The engine is sent `changes`, `replaces` and `delete_before_replace` (the Python dynamic provider protocol
    carries nothing more); `changed_keys` lets callers and tests see the same plan the preview shows.
    """

    def __init__(
        self, changed_keys: Sequence[str], replaces: Sequence[str], delete_before_replace: bool
    ) -> None:
        super().__init__(
            changes=bool(changed_keys),
            replaces=list(replaces),
            stables=None,
            delete_before_replace=delete_before_replace if replaces else None,
        )
        self.changed_keys = list(changed_keys)


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


def plain(value: Any) -> Any:
    """Inputs with any wrapped secret unwrapped (the engine normally unwraps them before they get here)."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def normalize(value: Any, key: str | None = None) -> Any:
    """The semantic form of a value: what Fly treats as the same compares equal.

    Nulls and empty collections are the same as absent, integral floats (every number crosses gRPC as a double)
    are ints, and a boolean `autostop` is its string form.
    """
    if key == "autostop" and isinstance(value, bool):
        return _AUTOSTOP[value]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            n = normalize(v, k)
            if n is not None and n != {} and n != []:
                out[k] = n
        return out
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def same(a: Any, b: Any) -> bool:
    """Semantic equality; anything not yet known is treated as different."""
    if contains_unknown(a) or contains_unknown(b):
        return False
    return bool(normalize(a) == normalize(b))


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


def diff_inputs(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    keys: Iterable[str],
    replace_on: Iterable[str],
    *,
    delete_before_replace: bool = False,
) -> FlyDiffResult:
    """Compare each input key semantically; the changed ones in `replace_on` force a replacement."""
    changed = [k for k in keys if not same({k: olds.get(k)}, {k: news.get(k)})]
    replaces = [k for k in changed if k in set(replace_on)]
    return FlyDiffResult(changed, replaces, delete_before_replace)


def create_or_adopt(find: Callable[[bool], T | None], create: Callable[[], T]) -> tuple[T, bool]:
    """Look before creating, and look again after an answer that may have been applied.

    A deploy re-run after a failure half way, or a create whose answer was lost, then adopts what the earlier
    attempt made instead of making a second one. `find(fresh)` may answer the first look from a listing taken
    once per process (`listed_once`); after a failed create it must look afresh. Returns the resource and
    whether it was adopted.
    """
    backoff = api.DEFAULT_BACKOFF
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        found = find(attempt > 1)
        if found is not None:
            return found, True
        try:
            return create(), False
        except FlyApiError as err:
            wait = backoff.delay(attempt)
            if not err.maybe_applied or not backoff.allows(started, wait):
                raise
            time.sleep(wait)


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


def gone() -> ReadResult:
    """What `read` returns for a resource deleted outside Pulumi: an empty id tells the engine it is gone."""
    return ReadResult(id_="", outs={})


class FlyProvider(ResourceProvider):
    """Base for the Fly providers. Holds no state: everything it needs is read per call."""

    kind: ClassVar[str] = "resource"

    def configure(self, req: ConfigureRequest) -> None:
        credentials.remember_stack_config(req.config)

    def client(self, name: str, *, redact: Iterable[str] = ()) -> FlyClient:
        return FlyClient(Subject(self.kind, name), redact=redact)
