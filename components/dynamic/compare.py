"""Comparing what a provider sent with what it holds or reads back, as the API means it.

Facts of the Python dynamic provider protocol this relies on:
- `diff(id, olds, news)` and `update(id, olds, news)` get the *old outputs* and the new inputs, so every provider
  returns its inputs among its outputs (in the same form) and compares like with like.
- In preview, inputs that are not known yet arrive as `pulumi.output.Unknown` (or the UNKNOWN sentinel).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import rpc

# How an API echoes a value back, undone: (key it sits under, value read back) -> the value as it was sent.
AsSent = Callable[[str | None, Any], Any]


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


def normalize(value: Any, key: str | None = None, *, as_sent: AsSent | None = None) -> Any:
    """The semantic form of a value: what the API treats as the same compares equal.

    Nulls and empty collections are the same as absent, and integral floats (every number crosses gRPC as a
    double) are ints. `as_sent` undoes an API's own echoes (Fly's boolean `autostop`), key by key.
    """
    if as_sent is not None:
        value = as_sent(key, value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            n = normalize(v, k, as_sent=as_sent)
            if n is not None and n != {} and n != []:
                out[k] = n
        return out
    if isinstance(value, list | tuple):
        return [normalize(v, as_sent=as_sent) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def same(a: Any, b: Any, *, as_sent: AsSent | None = None) -> bool:
    """Semantic equality; anything not yet known is treated as different."""
    if contains_unknown(a) or contains_unknown(b):
        return False
    return bool(normalize(a, as_sent=as_sent) == normalize(b, as_sent=as_sent))
