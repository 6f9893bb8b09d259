"""Backoff arithmetic every platform's calls share: jitter bounds, the cap, Retry-After and the total budget."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from components.dynamic.retry import Attempts, Backoff, parse_retry_after, retryable


def test_delay_grows_exponentially_and_is_capped() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (8, 4.0)]:
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # full jitter spreads over the whole range


def test_retry_after_wins_over_a_shorter_jittered_delay() -> None:
    assert Backoff(base_s=0.01, cap_s=0.01).delay(1, retry_after=2.0) == 2.0


def test_time_alone_bounds_the_retries() -> None:
    backoff = Backoff(budget_s=1.0)
    started = time.monotonic()
    assert backoff.allows(started, 0.1)
    assert backoff.allows(started, 0.9)
    assert not backoff.allows(started, 1.5)  # the wait alone would overrun the budget
    assert not backoff.allows(started - 0.95, 0.1)  # most of the budget is spent already


def test_the_delay_of_a_late_attempt_stays_capped() -> None:
    assert all(Backoff(base_s=0.5, cap_s=4.0).delay(200) <= 4.0 for _ in range(50))


def test_retry_after_header_as_seconds_or_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = parse_retry_after(when)
    assert seconds is not None
    assert 25 <= seconds <= 31


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_a_call_stops_attempting_once_the_next_wait_would_overrun_its_budget() -> None:
    attempts = Attempts(Backoff(base_s=0.01, cap_s=0.01, budget_s=0.3))
    while attempts.retry():
        assert attempts.count < 1000  # bounded by time, so this is never reached
    # The last wait would have ended past the budget; sleeps may overrun a little.
    assert 0.29 <= attempts.elapsed_s <= 0.3 + 0.1
    assert not attempts.retry(retry_after=0.02)  # a Retry-After longer than what is left
    # A Retry-After past the whole budget gives up at once.
    assert not Attempts(Backoff(budget_s=5.0)).retry(retry_after=6.0)


def test_a_429_is_always_retried_and_a_5xx_only_when_repeating_is_harmless() -> None:
    assert retryable(429, idempotent=False)
    assert retryable(503, idempotent=True)
    assert not retryable(503, idempotent=False)
    assert not retryable(404, idempotent=True)
    assert not retryable(None, idempotent=True)
