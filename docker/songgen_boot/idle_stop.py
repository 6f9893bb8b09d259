"""Whether the Studio is idle: no user request in its access log, no work running or waiting in its API.

The watcher only judges; what idleness leads to is the platform's idle policy (``idle_policy``).
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .config import Settings
from .console import log

ACTIVE_GENERATION_STATES = frozenset({"pending", "processing", "running", "queued"})
_ACCESS_LOG = re.compile(
    r'^(?:INFO:\s+)?(?P<client>\S+):(?P<port>\d+) - "(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" (?P<status>\d{3})'
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# The watcher polls from 127.0.0.1; Fly's proxy connects from the machine's private network address.
_WATCHER_CLIENTS = frozenset({"127.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1"})
_WATCHER_PATHS = frozenset({"/api/health", "/api/generations", "/api/queue", "/api/models"})
# The query parameter that marks the entrypoint's own keep-awake requests (Spaces), which come back
# through the platform's proxy and so from a non-loopback address.
KEEPAWAKE_MARKER = "songgen-keepawake"


@dataclasses.dataclass
class Activity:
    """When a user last did something, shared by the log reader and the idle watcher."""

    clock: Callable[[], float] = time.monotonic
    last: float = dataclasses.field(default=0.0)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.last = self.clock()

    def touch(self) -> None:
        with self.lock:
            self.last = self.clock()

    def idle_for(self) -> float:
        with self.lock:
            return self.clock() - self.last

    def touched_after(self, moment: float) -> bool:
        with self.lock:
            return self.last > moment


def classify_log_line(line: str, ignore_paths: Sequence[str]) -> tuple[bool, bool]:
    """(is user activity, is one of our own polls) for one line of the Studio's output."""
    match = _ACCESS_LOG.match(_ANSI.sub("", line).strip())
    if not match:
        return False, False
    client, (path, _, query) = match["client"], match["path"].partition("?")
    if f"{KEEPAWAKE_MARKER}=" in query:
        return False, True
    if client in _WATCHER_CLIENTS:
        return False, path in _WATCHER_PATHS
    return path not in ignore_paths, False


@dataclasses.dataclass(frozen=True)
class StudioState:
    busy: bool
    reason: str


class StudioAPI:
    """Reads the Studio's own API to learn whether work is running or waiting."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def get(self, path: str) -> Any:
        request = urllib.request.Request(self.base_url + path, headers={"Accept": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return json.loads(response.read())

    def healthy(self) -> bool:
        try:
            data = self.get("/api/health")
        except (OSError, ValueError, http.client.HTTPException):
            return False
        return isinstance(data, dict) and data.get("status") == "ok"

    def state(self, include_downloads: bool = False) -> StudioState:
        """Busy unless the Studio positively says nothing runs, waits or downloads."""
        try:
            generations = self.get("/api/generations")
            queue = self.get("/api/queue")
            models = self.get("/api/models") if include_downloads else {"models": []}
        except (OSError, ValueError, http.client.HTTPException) as err:
            return StudioState(True, f"Studio API did not answer ({type(err).__name__}: {err})")
        if not isinstance(generations, list) or not isinstance(queue, list) or not isinstance(models, dict):
            return StudioState(True, "Studio API answered in an unexpected shape")
        for gen in generations:
            status = str(gen.get("status", "")) if isinstance(gen, dict) else ""
            if status in ACTIVE_GENERATION_STATES:
                return StudioState(True, f"generation {gen.get('id', '?')} is {status}")
        if queue:
            return StudioState(True, f"{len(queue)} song(s) waiting in the queue")
        for model in models.get("models", []) or []:
            if isinstance(model, dict) and model.get("status") == "downloading":
                return StudioState(True, f"model {model.get('id', '?')} is downloading")
            if isinstance(model, dict) and model.get("warmth") == "loading":
                return StudioState(True, f"model {model.get('id', '?')} is loading")
        return StudioState(False, "nothing running, queued or downloading")


class IdlePolicy(Protocol):
    """What idleness means on a platform. The watcher calls one of busy, quiet or idle on every poll."""

    # Ask about model downloads and loads after every user request, not only before acting on idleness
    # (a policy that acts while work runs must learn of a download before the user walks away).
    watches_continuously: bool

    def arm(self, limit: float) -> str:
        """Start what the policy runs; the log line saying what happens after limit idle seconds."""
        ...

    def busy(self, state: StudioState) -> None:
        """A song runs or waits, or a model loads or downloads."""
        ...

    def quiet(self) -> None:
        """Nothing runs, but a user or work was seen within the idle period."""
        ...

    def idle(self, idle_for: float, state: StudioState) -> bool:
        """Idle for the whole period; True ends the watch and stops the Studio (exit 0)."""
        ...

    def close(self) -> None:
        """The watch is over (the entrypoint is stopping)."""
        ...


class IdleWatcher(threading.Thread):
    """Judges idleness on every poll and hands the verdict to the platform's policy."""

    def __init__(
        self,
        settings: Settings,
        api: StudioAPI,
        activity: Activity,
        stop: threading.Event,
        policy: IdlePolicy,
    ) -> None:
        super().__init__(name="idle-watcher", daemon=True)
        self.settings = settings
        self.api = api
        self.activity = activity
        self.stop = stop
        self.policy = policy
        self.stop_requested = threading.Event()

    def run(self) -> None:
        try:
            self._watch()
        finally:
            self.policy.close()

    def _watch(self) -> None:
        poll = self.settings.idle_poll_seconds
        limit = self.settings.idle_stop_seconds
        while not self.stop.is_set() and not self.api.healthy():
            self.stop.wait(min(poll, 2.0))
        self.activity.touch()
        log(self.policy.arm(limit))
        last_reason = ""
        # /api/models is heavier (it refreshes GPU info), so downloads are only asked about before
        # acting on idleness (or after a user request, for a policy that watches continuously), and on
        # every poll once one has been seen, until it is over.
        watch_downloads = False
        asked_downloads_at = float("-inf")
        while not self.stop.wait(poll):
            state = self.api.state(include_downloads=watch_downloads)
            if not state.busy and not watch_downloads:
                seen_since = self.activity.touched_after(asked_downloads_at)
                if self.activity.idle_for() >= limit or (self.policy.watches_continuously and seen_since):
                    asked_downloads_at = self.activity.clock()
                    state = self.api.state(include_downloads=True)
                    watch_downloads = state.busy
            if state.busy:
                if state.reason != last_reason:
                    log(f"busy: {state.reason}")
                    last_reason = state.reason
                self.activity.touch()
                self.policy.busy(state)
                continue
            last_reason = ""
            watch_downloads = False
            idle_for = self.activity.idle_for()
            if idle_for < limit:
                self.policy.quiet()
            elif self.policy.idle(idle_for, state):
                self.stop_requested.set()
                return
