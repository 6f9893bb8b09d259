"""The Studio's state files when the data dir is a bucket mount: kept on local disk, mirrored whole.

A bucket mount uploads a file when it is closed (a crash before that loses the write), keeps no
symlinks and may serve reads ~10 s stale. The Studio rewrites ``queue.json``, ``verified_models.json``
and ``timing_history.json`` in place (truncate, then write), which on a bucket could leave a torn or
empty file behind. So the Studio works on local copies (``SONGGEN_LOCAL_DIR/state``); they are restored
from the bucket at boot and written back whole (temp file + rename, only complete JSON) whenever they
change, every ``SONGGEN_STATE_SYNC_SECONDS``, and once more after the Studio has stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from .config import Settings
from .console import log
from .layout import STATE_ENTRIES

STATE_FILES = tuple(name for name, is_dir in STATE_ENTRIES.items() if not is_dir)


def write_whole(path: Path, data: bytes) -> None:
    """Write path as one new file: a temp file beside it, closed, then renamed over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def restore_state_files(settings: Settings) -> None:
    """Copy the bucket's state files to local disk before the Studio starts (the bucket wins)."""
    local = settings.state_dir
    local.mkdir(parents=True, exist_ok=True)
    for name in STATE_FILES:
        remote = settings.data_dir / name
        if remote.is_symlink() or not remote.is_file():
            continue
        write_whole(local / name, remote.read_bytes())
        log(f"state: restored {name} from the bucket")


class StateMirror(threading.Thread):
    """Writes each local state file back to the bucket when its content changed and is whole JSON."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="state-mirror", daemon=True)
        self.settings = settings
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, int]] = {}  # name -> (mtime_ns, size) last looked at
        self._mirrored: dict[str, str] = {}  # name -> sha256 of what the bucket holds from us
        for name in STATE_FILES:
            remote = settings.data_dir / name
            local = settings.state_dir / name
            if remote.is_file() and local.is_file() and remote.read_bytes() == local.read_bytes():
                self._mirrored[name] = _digest(local.read_bytes())

    def run(self) -> None:
        while not self._closing.wait(self.settings.state_sync_seconds):
            self.sync()

    def close(self) -> None:
        """Stop the thread and mirror once more: called after the Studio has exited."""
        self._closing.set()
        if self.is_alive():
            self.join(timeout=30)
        self.sync()

    def sync(self) -> list[str]:
        """Mirror what changed; returns the names written. Never raises: the next round tries again."""
        with self._lock:
            return [name for name in STATE_FILES if self._sync_one(name)]

    def _sync_one(self, name: str) -> bool:
        local = self.settings.state_dir / name
        try:
            stat = local.stat()
        except FileNotFoundError:
            return False
        seen = (stat.st_mtime_ns, stat.st_size)
        if self._seen.get(name) == seen:
            return False
        data = local.read_bytes()
        try:
            json.loads(data)
        except ValueError:
            return False  # the Studio is in the middle of rewriting it: look again next round
        self._seen[name] = seen
        digest = _digest(data)
        if self._mirrored.get(name) == digest:
            return False
        try:
            write_whole(self.settings.data_dir / name, data)
        except OSError as err:
            self._seen.pop(name, None)
            log(f"state: could not write {name} to the bucket ({err}); trying again")
            return False
        self._mirrored[name] = digest
        return True


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
