"""The entrypoint as a real process for the platform tests: its output read as it comes, its Studio's evidence.

Started by the ``launch`` fixture (conftest), which stops every process it started. ``Unprivileged``
describes how to run it as a user other than root: uid 1000 (the uid Spaces runs images as) when the
tests run as root, else the tests' own user.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class Unprivileged:
    uid: int
    gid: int
    python: str  # an interpreter this user may run (the tests' own may live under /root)

    def popen_args(self) -> dict[str, Any]:
        if os.geteuid() == self.uid:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


class Entrypoint:
    """One entrypoint process; a thread collects its output so tests can read it while it runs."""

    def __init__(self, proc: subprocess.Popen[str], app_dir: Path, port: int) -> None:
        self.proc = proc
        self.app_dir = app_dir
        self.port = port
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.append(line)

    def output(self) -> str:
        return "".join(self._lines)

    def running(self) -> bool:
        return self.proc.poll() is None

    def signals(self) -> list[str]:
        path = self.app_dir / "signals.log"
        return path.read_text().split() if path.exists() else []

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout: float = 15.0) -> float:
        """Poll predicate until it holds; returns when (monotonic) it first did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return time.monotonic()
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; output so far:\n{self.output()}")

    def wait_for_line(self, text: str, timeout: float = 15.0) -> float:
        return self.wait_for(repr(text), lambda: text in self.output(), timeout)

    def wait_healthy(self, timeout: float = 15.0) -> None:
        def healthy() -> bool:
            assert self.running(), f"entrypoint exited early:\n{self.output()}"
            return get(self.port, "/api/health") == 200

        self.wait_for("the Studio's health", healthy, timeout)

    def wait_exit(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"entrypoint still running after {timeout} s:\n{self.output()}") from None
        self._reader.join(timeout=5)
        return code

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(25)

    def kill(self) -> None:
        if self.running():
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def get(port: int, path: str, source: str | None = None) -> int | None:
    """A GET from source (another loopback address stands in for a platform's proxy)."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=2, source_address=(source, 0) if source else None
    )
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def post_json(port: int, path: str, body: Any) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def seconds_as_minutes(seconds: float) -> str:
    return f"{seconds / 60:.6f}"
