"""What every Spaces dynamic provider shares: credentials per call, semantic comparison, precise diffs.

Facts of the Python dynamic provider protocol this relies on (as for the Fly providers):
- `diff(id, olds, news)` and `update(id, olds, news)` get the *old outputs* and the new inputs, so every provider
  returns its inputs among its outputs, in the same form, and compares like with like.
- In preview, inputs that are not known yet arrive as `pulumi.output.Unknown` (or the UNKNOWN sentinel).
- A provider object is pickled into the state: it keeps no attributes; the Hub client is built per call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from pulumi.dynamic import ConfigureRequest, DiffResult, ReadResult, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime import rpc

from components.dynamic import host

from . import hub
from .errors import SpacesError, Subject

# In the provider process: our errors without tracebacks, and an exit once the engine is gone.
host.attach()

T = TypeVar("T")


class SpacesDiff(DiffResult):
    """A DiffResult that also names which properties change (`changed_keys`), for callers and tests."""

    def __init__(self, changed_keys: Sequence[str], replaces: Sequence[str] = ()) -> None:
        super().__init__(
            changes=bool(changed_keys), replaces=list(replaces), stables=None, delete_before_replace=None
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


def normalize(value: Any) -> Any:
    """What the Hub treats as the same compares equal: nulls and empties as absent, 900.0 as 900."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            norm = normalize(item)
            if norm is not None and norm != {} and norm != []:
                out[key] = norm
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


def diff_keys(
    olds: Mapping[str, Any], news: Mapping[str, Any], keys: Iterable[str], replace_on: Iterable[str] = ()
) -> SpacesDiff:
    """Compare each input key; the changed ones in `replace_on` force a replacement."""
    changed = [k for k in keys if not same(olds.get(k), news.get(k))]
    return SpacesDiff(changed, [k for k in changed if k in set(replace_on)])


def gone() -> ReadResult:
    """What `read` returns for a resource deleted outside Pulumi: an empty id tells the engine it is gone."""
    return ReadResult(id_="", outs={})


def adopt_or_create(find: Callable[[], T | None], create: Callable[[], T]) -> tuple[T, bool]:
    """Look before creating, and look again after an answer that may have been applied.

    A deploy re-run after a failure half way, or a create whose answer was lost, then adopts what the earlier
    attempt made instead of failing on a name that is taken. `find` decides what counts as this stack's own
    (and raises for what is someone else's). Returns the resource and whether it was adopted.
    """
    backoff = hub.DEFAULT_BACKOFF
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        found = find()
        if found is not None:
            return found, True
        try:
            return create(), False
        except SpacesError as err:
            wait = backoff.delay(attempt)
            if not err.maybe_applied or not backoff.allows(started, wait):
                raise
            time.sleep(wait)


class SpacesProvider(ResourceProvider):
    """Base for the Spaces providers. Holds no state: everything it needs is read per call."""

    kind: ClassVar[str] = "resource"

    def configure(self, req: ConfigureRequest) -> None:
        hub.remember_stack_config(req.config)

    def connect(self, name: str, *, redact: Iterable[str] = ()) -> hub.Hub:
        return hub.Hub(Subject(self.kind, name), redact=redact)
