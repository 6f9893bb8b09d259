"""Exponential backoff with full jitter, bounded by time alone.

Every retried call gets the same budget, stated here once: a call gives up when the next wait would end
past `budget_s` from its first attempt. A count would be the wrong bound: Fly's 429s carry Retry-After, and a
burst of them lasting a dozen seconds must be waited out, not counted out.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# How long one API call (all of its attempts) may keep retrying.
CALL_BUDGET_S = 90.0


@dataclass(frozen=True)
class Backoff:
    base_s: float = 0.5
    cap_s: float = 8.0
    budget_s: float = CALL_BUDGET_S

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Wait before attempt `attempt + 1`: random up to base*2^(attempt-1), capped; Fly's Retry-After wins."""
        jittered = random.uniform(0.0, min(self.cap_s, self.base_s * 2 ** min(attempt - 1, 30)))
        return max(jittered, retry_after or 0.0)

    def allows(self, started: float, wait_s: float) -> bool:
        """Whether another attempt fits: the wait ends inside the budget counted from `started`."""
        return time.monotonic() - started + wait_s <= self.budget_s


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
