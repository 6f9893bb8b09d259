"""Spaces: keep the Space awake while work runs, by visiting its own public URL.

A Space's sleep timer counts visits, not work: a song generating with the browser tab closed would
be stopped mid-way once the sleep time passed. While the Studio is busy the entrypoint requests the
Space's own URL every ``SONGGEN_KEEPAWAKE_SECONDS``, and once more when the work ends, so the timer
restarts from the end of the work; then it stops and the timer runs.

The HF token (needed to reach a private Space) is sent only to the Space's own host (``SPACE_HOST``)
over https (or to a loopback address, for tests), and redirects are not followed, so it never reaches
another host. The requests carry a marker query parameter, so when they come back through the Space's
proxy into the Studio's access log they are not taken for a user.
"""

from __future__ import annotations

import http.client
import ipaddress
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import IO, Any

from .config import KeepAwakeSettings
from .console import log
from .idle_stop import KEEPAWAKE_MARKER


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any, newurl: str
    ) -> None:
        return None


def ping_url(url: str) -> str:
    """url with the marker that tells the watcher the request is its own."""
    parts = urllib.parse.urlsplit(url)
    query = f"{parts.query}&{KEEPAWAKE_MARKER}=1" if parts.query else f"{KEEPAWAKE_MARKER}=1"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


def token_may_go_to(url: str, space_host: str | None) -> bool:
    """Only the Space's own host gets the token, and only over https (or on loopback, for tests)."""
    parts = urllib.parse.urlsplit(url)
    if space_host is None or parts.netloc.lower() != space_host.strip().lower():
        return False
    return parts.scheme == "https" or _is_loopback(parts.hostname or "")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class SpacePinger:
    """One GET of the Space's URL; logs what changed, never raises."""

    def __init__(self, settings: KeepAwakeSettings, token: str | None, timeout: float) -> None:
        self.url = ping_url(settings.url)
        self.timeout = timeout
        self._headers = {"User-Agent": "songgen-keepawake/1", "Accept": "*/*"}
        if token and token_may_go_to(settings.url, settings.space_host):
            self._headers["Authorization"] = f"Bearer {token}"
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._last_outcome = ""
        self.sent = 0

    @property
    def sends_token(self) -> bool:
        return "Authorization" in self._headers

    def __call__(self) -> None:
        request = urllib.request.Request(self.url, headers=self._headers)  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read(1024)
                outcome = f"HTTP {response.status}"
        except urllib.error.HTTPError as err:
            outcome = f"HTTP {err.code}"
            err.close()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            outcome = f"no answer ({type(err).__name__})"
        self.sent += 1
        if outcome != self._last_outcome:
            hint = "" if outcome.startswith("HTTP 2") else _hint(outcome, self.sends_token)
            log(f"keep-awake: {urllib.parse.urlsplit(self.url).netloc} answered {outcome}{hint}")
            self._last_outcome = outcome


def _hint(outcome: str, sends_token: bool) -> str:
    if outcome in {"HTTP 401", "HTTP 403", "HTTP 404"} and not sends_token:
        return " (a private Space needs HF_TOKEN, and SONGGEN_KEEPAWAKE_URL on SPACE_HOST)"
    if outcome in {"HTTP 401", "HTTP 403", "HTTP 404"}:
        return " (is HF_TOKEN a token of the Space's owner or a collaborator?)"
    return " (the Space may still be counted as visited; retrying on the next ping)"


class KeepAwake(threading.Thread):
    """Pings every period while held; one last ping when released, so the sleep timer starts then."""

    def __init__(self, ping: Callable[[], None], period: float) -> None:
        super().__init__(name="keep-awake", daemon=True)
        self._ping = ping
        self._period = period
        self._holding = threading.Event()
        self._changed = threading.Event()
        self._closed = threading.Event()

    def hold(self, reason: str) -> None:
        if not self._holding.is_set():
            log(f"keep-awake: {reason}; visiting the Space every {self._period:g} s so it does not sleep")
            self._holding.set()
            self._changed.set()

    def release(self) -> None:
        if self._holding.is_set():
            log("keep-awake: nothing runs, waits, loads or downloads; the Space's sleep timer runs from now")
            self._holding.clear()
            self._changed.set()

    def close(self) -> None:
        self._closed.set()
        self._changed.set()

    def run(self) -> None:
        was_holding = False
        while True:
            self._changed.clear()  # before reading the state, so no hold or release is missed
            if self._closed.is_set():
                return
            holding = self._holding.is_set()
            if holding or was_holding:
                self._ping()
            was_holding = holding
            self._changed.wait(self._period if holding else None)
