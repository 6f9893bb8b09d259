"""Fly's documented Machines API rate limits, as token buckets.

"1 request, per second, per action (Create Machine, Start Machine, etc.), short-term burst up to 3 req/s,
per action; Get Machine allows 5 req/s with a short-term burst up to 10", scoped per machine or app
(Fly docs, "Working with the Machines API" > Rate Limits). The action is the route template, the scope
the most specific id in the path.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

# Path segments that name a collection; the segment after one is an id.
_COLLECTIONS = frozenset(
    {"apps", "machines", "volumes", "secrets", "ip_assignments", "snapshots", "metadata"}
)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


def classify(method: str, path: str) -> tuple[str, str]:
    """(action, scope) for a /v1 path, e.g. ("GET /v1/apps/{}/machines/{}", "<machine id>")."""
    parts = path.strip("/").split("/")
    template: list[str] = []
    scope = "global"
    for i, part in enumerate(parts):
        if i > 0 and parts[i - 1] in _COLLECTIONS:
            template.append("{}")
            scope = part
        else:
            template.append(part)
    return f"{method.upper()} /" + "/".join(template), scope


def limits_for(action: str) -> tuple[float, float]:
    """(requests per second, burst) for an action."""
    if action == "GET /v1/apps/{}/machines/{}":
        return 5.0, 10.0
    return 1.0, 3.0


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def check(self, method: str, path: str, now: float | None = None) -> float | None:
        """None when the request may proceed, else the seconds to wait before retrying."""
        now = time.monotonic() if now is None else now
        action, scope = classify(method, path)
        rate, burst = limits_for(action)
        with self._lock:
            bucket = self._buckets.setdefault((action, scope), _Bucket(burst, now))
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / rate

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def retry_after_header(wait: float) -> str:
    # Retry-After carries whole seconds; round up so a client that obeys it is never early.
    return str(max(1, math.ceil(wait)))
