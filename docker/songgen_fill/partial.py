"""A file the fill has not finished: a sparse data file, the byte ranges of it on disk, a running hash.

On the volume, under ``.songgen/incomplete/<target>/``: ``<path>`` (the data, at its final size, holes
where nothing was written yet) and ``<path>.ranges.json`` (what it is meant to become and which byte
ranges are written). The ranges file is only rewritten after the data is on disk (fsync), so it never
claims a byte that a crash could lose; a restart fetches exactly the ranges it does not list. A
``<name>.part`` next to a file (what the entrypoint before this one left of an interrupted download:
the file's first bytes) is adopted as the range from 0.

The hash (sha256, or the git blob id of a small file) is taken in order: bytes written right at the
hashed prefix are hashed as they come, and whatever the prefix catches up with later (ranges other
connections wrote first) is read back from disk, which the page cache usually still holds.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from songgen_boot.checksums import CHUNK, Expected, Hasher
from songgen_boot.errors import StopRequestedError
from songgen_boot.manifest import atomic_write

STATE_FORMAT = 1
STATE_SUFFIX = ".ranges.json"


class DiskError(Exception):
    """Writing to the volume failed (full, read-only, gone): not something a retry of the download fixes."""


class Ranges:
    """Disjoint, sorted [start, end) byte ranges."""

    def __init__(self, spans: list[tuple[int, int]] | None = None) -> None:
        self.spans: list[tuple[int, int]] = []
        for start, end in spans or []:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        if end <= start:
            return
        merged: list[tuple[int, int]] = []
        for s, e in self.spans:
            if e < start or s > end:
                merged.append((s, e))
            else:
                start, end = min(s, start), max(e, end)
        merged.append((start, end))
        self.spans = sorted(merged)

    def covered(self) -> int:
        return sum(e - s for s, e in self.spans)

    def prefix(self) -> int:
        """How far the ranges cover [0, n) without a gap."""
        return self.spans[0][1] if self.spans and self.spans[0][0] == 0 else 0

    def missing(self, size: int) -> list[tuple[int, int]]:
        gaps: list[tuple[int, int]] = []
        position = 0
        for s, e in self.spans:
            if s > position:
                gaps.append((position, min(s, size)))
            position = max(position, e)
        if position < size:
            gaps.append((position, size))
        return gaps


class PartialFile:
    """One incomplete download: its data file, the ranges written, the hash of its prefix."""

    def __init__(self, data: Path, expected: Expected, ranges: Ranges, adopt: Path | None = None) -> None:
        self.data = data
        self.state = data.with_name(data.name + STATE_SUFFIX)
        self.expected = expected
        self.ranges = ranges  # written and recorded in memory; saved by save()
        self._adopt = adopt  # an old entrypoint's .part, moved here when the file is opened
        self._fd: int | None = None
        self._io_lock = threading.Lock()  # the descriptor's lifetime: save() never races close()
        self._lock = threading.Lock()
        self._dirty = False
        self._hash_lock = threading.Lock()
        self._hasher = Hasher(expected)
        self._hashed = 0

    # ---- finding what an earlier boot left ----

    @classmethod
    def load(cls, data: Path, expected: Expected, legacy_part: Path) -> PartialFile:
        """What is on disk for this file: its ranges if they are for this very content, else nothing."""
        state = _read_state(data.with_name(data.name + STATE_SUFFIX))
        if (
            state is not None
            and state.get("expected") == expected.entry()
            and _size_of(data) == expected.size
        ):
            return cls(data, expected, Ranges([(int(s), int(e)) for s, e in state.get("ranges", [])]))
        legacy = _size_of(legacy_part)
        if legacy is not None and 0 < legacy <= expected.size:
            return cls(data, expected, Ranges([(0, legacy)]), adopt=legacy_part)
        return cls(data, expected, Ranges())

    @property
    def done(self) -> int:
        with self._lock:
            return self.ranges.covered()

    def missing(self) -> list[tuple[int, int]]:
        with self._lock:
            return self.ranges.missing(self.expected.size)

    # ---- writing ----

    def open(self) -> None:
        """Create (or reopen) the data file at its full size; holes cost no space."""
        if self._fd is not None:
            return
        try:
            self.data.parent.mkdir(parents=True, exist_ok=True)
            if self._adopt is not None:
                os.replace(self._adopt, self.data)
                self._adopt = None
                self._dirty = True
            elif not self.ranges.spans:
                self.state.unlink(missing_ok=True)
            self._fd = os.open(self.data, os.O_RDWR | os.O_CREAT, 0o644)
            os.ftruncate(self._fd, self.expected.size)
        except OSError as err:
            raise DiskError(f"cannot write {self.data}: {err.strerror}") from None

    def write(self, offset: int, data: bytes | memoryview) -> None:
        """Write data at offset and record the range; hash it at once if it extends the hashed prefix."""
        assert self._fd is not None, "open() first"
        view = memoryview(data)
        try:
            written = 0
            while written < len(view):
                written += os.pwrite(self._fd, view[written:], offset + written)
        except OSError as err:
            raise DiskError(f"cannot write {self.data}: {err.strerror}") from None
        with self._lock:
            self.ranges.add(offset, offset + len(view))
            self._dirty = True
        if self._hash_lock.acquire(blocking=False):
            try:
                if self._hashed == offset:
                    self._hasher.update(view)
                    self._hashed += len(view)
            finally:
                self._hash_lock.release()

    def save(self) -> None:
        """Make the written data durable, then record its ranges (in that order: never a range lost)."""
        with self._io_lock:
            with self._lock:
                if not self._dirty or self._fd is None:
                    return
                spans = list(self.ranges.spans)
                self._dirty = False
            os.fsync(self._fd)
            state = {"format": STATE_FORMAT, "expected": self.expected.entry(), "ranges": spans}
            atomic_write(self.state, json.dumps(state) + "\n")

    # ---- finishing ----

    def complete(self) -> bool:
        with self._lock:
            return self.ranges.covered() >= self.expected.size

    def catch_up(self, stop: threading.Event) -> None:
        """Hash whatever the written prefix has grown to beyond the hashed one, reading it back."""
        with self._hash_lock:
            while True:
                with self._lock:
                    prefix = self.ranges.prefix()
                if self._hashed >= prefix:
                    return
                if stop.is_set():
                    raise StopRequestedError
                assert self._fd is not None
                block = os.pread(self._fd, min(CHUNK * 8, prefix - self._hashed), self._hashed)
                if not block:
                    raise DiskError(f"{self.data} is shorter than what was written to it")
                self._hasher.update(block)
                self._hashed += len(block)

    def verified(self, stop: threading.Event) -> tuple[bool, str]:
        """Whether the complete file hashes to what the repo lists (call once complete)."""
        self.catch_up(stop)
        if self._hashed != self.expected.size or not self._hasher.matches():
            return False, f"{self._hasher.kind} mismatch after download ({self._hasher.hexdigest()[:12]}...)"
        return True, "ok"

    def finish(self, dest: Path) -> None:
        """Move the verified file into place and forget its ranges."""
        with self._io_lock:
            self._close()
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.data, dest)
            self.state.unlink(missing_ok=True)

    def discard(self) -> None:
        with self._io_lock:
            self._close()
            self.data.unlink(missing_ok=True)
            self.state.unlink(missing_ok=True)

    def close(self) -> None:
        with self._io_lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == STATE_FORMAT else None


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
