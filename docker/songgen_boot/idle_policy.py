"""What "stop when idle" means on each platform (SONGGEN_PLATFORM); the watcher decides when it applies.

- fly: stop the Studio and exit 0; Fly stops the machine and its proxy starts it on the next request.
- spaces: keep the Space awake while work runs (see keepawake); once idle, stop and let the Space's
  sleep timer stop it. Never exits on its own.
- kubernetes: scale this Studio's Deployment to zero, then keep serving until the pod gets SIGTERM.
  A failed scale (403: the Role does not allow it) is logged and retried with a bounded back-off.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .config import Settings
from .console import log
from .idle_stop import IdlePolicy, StudioState
from .keepawake import KeepAwake, SpacePinger
from .kube import ScaleOutcome, ScaleTarget, resolve_target, scale_to_zero

SCALE_RETRY_MAX_SECONDS = 600.0
PING_TIMEOUT_SECONDS = 20.0


class FlyStop:
    watches_continuously = False

    def arm(self, limit: float) -> str:
        return f"idle stop armed: the machine stops after {limit / 60:g} idle minutes"

    def busy(self, state: StudioState) -> None:
        pass

    def quiet(self) -> None:
        pass

    def idle(self, idle_for: float, state: StudioState) -> bool:
        log(f"idle for {idle_for / 60:.1f} min ({state.reason}); stopping the machine")
        return True

    def close(self) -> None:
        pass


class SpacesKeepAwake:
    # A download started from the UI must be seen before the user's last visit ages past the sleep time.
    watches_continuously = True

    def __init__(self, keep_awake: KeepAwake, url: str) -> None:
        self.keep_awake = keep_awake
        self.url = url

    def arm(self, limit: float) -> str:
        self.keep_awake.start()
        return (
            f"keep-awake armed: while a song runs or waits, or a model loads or downloads, the entrypoint "
            f"visits {self.url}; once idle the Space's sleep timer ({limit / 60:g} min) stops it"
        )

    def busy(self, state: StudioState) -> None:
        self.keep_awake.hold(state.reason)

    def quiet(self) -> None:
        self.keep_awake.release()

    def idle(self, idle_for: float, state: StudioState) -> bool:
        self.keep_awake.release()
        return False

    def close(self) -> None:
        self.keep_awake.close()


class KubernetesScaleToZero:
    watches_continuously = False

    def __init__(
        self,
        target: ScaleTarget,
        first_retry: float,
        scale: Callable[[ScaleTarget], ScaleOutcome],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.first_retry = first_retry
        self._scale = scale
        self._clock = clock
        self._limit = 0.0
        self._next_attempt = float("-inf")
        self._delay = first_retry

    def arm(self, limit: float) -> str:
        self._limit = limit
        return f"scale to zero armed: after {limit / 60:g} idle minutes {self.target.name} goes to 0 replicas"

    def busy(self, state: StudioState) -> None:
        self._next_attempt = float("-inf")  # a new idle period starts with a fresh attempt
        self._delay = self.first_retry

    def quiet(self) -> None:
        pass

    def idle(self, idle_for: float, state: StudioState) -> bool:
        now = self._clock()
        if now < self._next_attempt:
            return False
        log(f"idle for {idle_for / 60:.1f} min ({state.reason}); scaling {self.target.name} to zero")
        outcome = self._scale(self.target)
        if outcome.ok:
            log(f"{outcome.message}; serving until Kubernetes stops this pod (SIGTERM)")
            # Still here after another idle period (say the Deployment was scaled back up)? Ask again.
            self._next_attempt = now + max(self._limit, self.first_retry)
            self._delay = self.first_retry
            return False
        log(
            f"could not scale to zero: {outcome.message} Retrying in {self._delay:g} s; the Studio keeps serving."
        )
        self._next_attempt = now + self._delay
        self._delay = min(self._delay * 2, SCALE_RETRY_MAX_SECONDS)
        return False

    def close(self) -> None:
        pass


def make_idle_policy(settings: Settings) -> IdlePolicy | None:
    """The platform's policy, or None with the idle stop off. A broken setup raises ConfigError now."""
    if settings.idle_stop_seconds <= 0:
        return None
    if settings.platform == "spaces":
        assert settings.keepawake is not None
        pinger = SpacePinger(settings.keepawake, settings.hf_token, PING_TIMEOUT_SECONDS)
        return SpacesKeepAwake(KeepAwake(pinger, settings.keepawake.period_seconds), settings.keepawake.url)
    if settings.platform == "kubernetes":
        assert settings.kubernetes is not None
        target = resolve_target(settings.kubernetes)
        timeout = min(settings.http_timeout_seconds, 30.0)
        return KubernetesScaleToZero(
            target, settings.kubernetes.retry_seconds, lambda t: scale_to_zero(t, timeout)
        )
    return FlyStop()
