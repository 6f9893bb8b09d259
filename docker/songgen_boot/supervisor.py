"""The Studio as a child process: its environment, its output, signals passed on, the exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import IO, Any

from .config import Settings
from .console import log, relay
from .drain import drain
from .idle_stop import Activity, IdlePolicy, IdleWatcher, StudioAPI, classify_log_line


def pump_output(stream: IO[bytes], activity: Activity, ignore_paths: Sequence[str]) -> None:
    """Copy the Studio's output to ours, noting user requests and hiding the watcher's own polls."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace")
        user, own_poll = classify_log_line(line, ignore_paths)
        if user:
            activity.touch()
        if not own_poll:
            relay(line)
    stream.close()


class Supervisor:
    """Runs the Studio, forwards signals to it and decides the exit code."""

    def __init__(self, settings: Settings, stop: threading.Event, policy: IdlePolicy | None = None) -> None:
        self.settings = settings
        self.stop = stop
        self.policy = policy
        self.child: subprocess.Popen[bytes] | None = None
        self.received: int | None = None
        self._held: int | None = None  # a SIGTERM kept from the Studio until the drain is over
        self._drain_cut = threading.Event()

    def handle_signal(self, signum: int, _frame: Any) -> None:
        first = self.received is None
        self.received = signum
        self.stop.set()
        child = self.child
        if child is None or child.poll() is not None:
            return
        if first and signum == signal.SIGTERM and self.settings.drain_seconds > 0:
            self._held = signum  # the main loop drains, then passes it on
            return
        self._drain_cut.set()
        log(f"received {signal.Signals(signum).name}; passing it to the Studio")
        _signal_group(child, signum)

    def studio_env(self) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        paths = [str(s.app_dir), str(s.app_dir / "codeclm" / "tokenizer" / "Flow1dVAE")]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(paths),
                "PYTHONUTF8": "1",
                "PYTHONUNBUFFERED": "1",
                "PORT": str(s.port),
            }
        )
        cache = s.cache_dir
        env.setdefault("HF_HOME", str(cache / "huggingface"))
        env.setdefault("TORCH_HOME", str(cache / "torch"))
        env.setdefault("XDG_CACHE_HOME", str(cache))
        # The image ships no bytecode; compile it once into the cache and reuse it on later boots.
        env.setdefault("PYTHONPYCACHEPREFIX", str(cache / "pycache"))
        if s.hf_endpoint != "https://huggingface.co":
            env["HF_ENDPOINT"] = s.hf_endpoint
        return env

    def run(self) -> int:
        s = self.settings
        command = [s.python, "main.py", "--host", s.host, "--port", str(s.port)]
        log(f"starting the Studio: {' '.join(command)} (in {s.app_dir})")
        self.child = subprocess.Popen(
            command,
            cwd=s.app_dir,
            env=self.studio_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: signals reach the model server too
        )
        if self.received is not None:  # a signal arrived while we were starting it
            _signal_group(self.child, self.received)
        activity = Activity()
        assert self.child.stdout is not None
        pump = threading.Thread(
            target=pump_output, args=(self.child.stdout, activity, s.idle_ignore_paths), daemon=True
        )
        pump.start()
        watcher: IdleWatcher | None = None
        if self.policy is not None:
            watcher = IdleWatcher(s, self.api(), activity, self.stop, self.policy)
            watcher.start()
        code = self._wait(watcher)
        pump.join(timeout=5)
        return code

    def _wait(self, watcher: IdleWatcher | None) -> int:
        child = self.child
        assert child is not None
        while True:
            try:
                code = child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None:
                self.stop.set()
                if self.received is not None:
                    log(
                        f"the Studio exited ({describe_exit(code)}) after {signal.Signals(self.received).name}"
                    )
                    return exit_code(code)
                if watcher is not None and watcher.stop_requested.is_set():
                    return 0
                log(f"the Studio exited on its own ({describe_exit(code)})")
                return exit_code(code)
            if self.received is not None:
                if self._held is not None:
                    self._drain_then_signal(child, self._held)
                self._reap(child)
                continue
            if watcher is not None and watcher.stop_requested.is_set():
                log("stopping the Studio (idle)")
                _signal_group(child, signal.SIGTERM)
                self._reap(child)
                self.stop.set()
                log("the Studio stopped; exiting 0 so the machine stays stopped until the next request")
                return 0

    def api(self) -> StudioAPI:
        return StudioAPI(f"http://127.0.0.1:{self.settings.port}")

    def _drain_then_signal(self, child: subprocess.Popen[bytes], signum: int) -> None:
        self._held = None
        s = self.settings
        drain(self.api(), s.drain_seconds, s.idle_poll_seconds, self._drain_cut, lambda: child.poll() is None)
        if not self._drain_cut.is_set() and child.poll() is None:
            log(f"passing {signal.Signals(signum).name} to the Studio")
            _signal_group(child, signum)

    def _reap(self, child: subprocess.Popen[bytes]) -> None:
        try:
            child.wait(timeout=self.settings.stop_grace_seconds)
        except subprocess.TimeoutExpired:
            log(f"the Studio did not stop within {self.settings.stop_grace_seconds:g} s; killing it")
            _signal_group(child, signal.SIGKILL)
            child.wait()


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:
        child.send_signal(signum)


def exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"
