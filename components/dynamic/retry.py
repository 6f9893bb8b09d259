"""How every platform's API calls retry: exponential backoff with full jitter, bounded by time alone.

The budget is stated here once, for every platform: a call gives up when the next wait would end past
`CALL_BUDGET_S` from its first attempt. A count would be the wrong bound: a 429 carries Retry-After, and a burst
of them lasting a dozen seconds must be waited out, not counted out. A 429 is always retried (the service did
nothing); a 5xx only when repeating the call is harmless.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass, field

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# How long one API call (all of its attempts) may keep retrying.
CALL_BUDGET_S = 90.0


@dataclass(frozen=True)
class Backoff:
    base_s: float = 0.5
    cap_s: float = 8.0
    budget_s: float = CALL_BUDGET_S

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Wait before attempt `attempt + 1`: random up to base*2^(attempt-1), capped; the service's Retry-After
        wins."""
        jittered = random.uniform(0.0, min(self.cap_s, self.base_s * 2 ** min(attempt - 1, 30)))
        return max(jittered, retry_after or 0.0)

    def allows(self, started: float, wait_s: float) -> bool:
        """Whether another attempt fits: the wait ends inside the budget counted from `started`."""
        return time.monotonic() - started + wait_s <= self.budget_s


# Module-level so tests can shorten it; read when a call starts, never captured by a provider.
DEFAULT_BACKOFF = Backoff()


@dataclass
class Attempts:
    """The attempts of one call: how many so far, since when, and whether one more fits the budget."""

    backoff: Backoff = field(default_factory=lambda: DEFAULT_BACKOFF)
    started: float = field(default_factory=time.monotonic)
    count: int = 1

    def retry(self, retry_after: float | None = None) -> bool:
        """Wait for one more attempt when it fits the budget; False when the call must give up."""
        wait = self.backoff.delay(self.count, retry_after)
        if not self.backoff.allows(self.started, wait):
            return False
        time.sleep(wait)
        self.count += 1
        return True

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started


def retryable(status: int | None, idempotent: bool) -> bool:
    """A 429 always (nothing happened); a 5xx only when repeating the call is harmless."""
    return status == 429 or (status in RETRY_STATUSES and idempotent)


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
