"""SONGGEN_DRAIN_SECONDS: on SIGTERM, let the running and queued songs finish before the Studio stops.

A platform that stops the machine on its own schedule (Kubernetes on a rollout or a scale to zero,
Fly on a deploy) sends SIGTERM and waits its grace period. Without a drain the song being generated is
lost. With one, the entrypoint holds the signal back and asks the Studio's API until nothing runs or
waits, or the drain time is over, and then stops the Studio as always. The platform's grace period
must cover the drain plus SONGGEN_STOP_GRACE_SECONDS. A second signal ends the drain at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .console import log
from .idle_stop import StudioAPI

PROGRESS_EVERY_SECONDS = 30.0
MAX_POLL_SECONDS = 5.0


def drain(
    api: StudioAPI,
    seconds: float,
    poll: float,
    interrupted: threading.Event,
    studio_running: Callable[[], bool],
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once no song runs or waits, the time is up, the Studio is gone or interrupted is set."""
    deadline = clock() + seconds
    poll = min(poll, MAX_POLL_SECONDS)
    log(f"SIGTERM: letting running and queued songs finish first (up to {seconds:g} s)")
    last_reason, last_said = "", float("-inf")
    while studio_running():
        if interrupted.is_set():
            log("drain cut short by another signal")
            return
        state = api.state()
        if not state.busy:
            log("drained: nothing running or queued; stopping the Studio")
            return
        left = deadline - clock()
        if left <= 0:
            log(f"drain time is over ({state.reason}); stopping the Studio anyway, the queue is kept")
            return
        if state.reason != last_reason or clock() - last_said >= PROGRESS_EVERY_SECONDS:
            log(f"draining: {state.reason}; waiting up to {left:.0f} s more")
            last_reason, last_said = state.reason, clock()
        interrupted.wait(min(poll, left))
