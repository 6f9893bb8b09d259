"""Whether a local file is the one a repo lists: its size, then its sha256 or git blob id."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import StopRequestedError

CHUNK = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Expected:
    """What a repo file must be: its size, and the sha256 (LFS files) or git blob id (small files)."""

    size: int
    sha256: str | None = None
    git_sha1: str | None = None

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Expected:
        """From a manifest entry ({"size", "sha256" | "git_sha1"})."""
        sha256, git_sha1 = entry.get("sha256"), entry.get("git_sha1")
        return cls(int(entry["size"]), str(sha256) if sha256 else None, str(git_sha1) if git_sha1 else None)

    def entry(self) -> dict[str, Any]:
        """As a manifest entry; only the strongest hash is kept."""
        found: dict[str, Any] = {"size": self.size}
        if self.sha256:
            found["sha256"] = self.sha256
        elif self.git_sha1:
            found["git_sha1"] = self.git_sha1
        return found


class Hasher:
    """sha256 of the content, or the git blob id (sha1 over a 'blob <size>' header)."""

    def __init__(self, expected: Expected) -> None:
        self.kind = "sha256" if expected.sha256 else ("git_sha1" if expected.git_sha1 else "size")
        if self.kind == "git_sha1":
            self._h = hashlib.sha1(f"blob {expected.size}\0".encode(), usedforsecurity=False)
        else:
            self._h = hashlib.sha256()
        self.expected = expected.sha256 or expected.git_sha1 or ""

    def update(self, data: bytes | memoryview) -> None:
        self._h.update(data)

    def matches(self) -> bool:
        return self.kind == "size" or self._h.hexdigest() == self.expected

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def hash_file(path: Path, hasher: Hasher, stop: threading.Event | None = None) -> int:
    count = 0
    with open(path, "rb") as handle:
        while True:
            if stop is not None and stop.is_set():
                raise StopRequestedError
            block = handle.read(CHUNK)
            if not block:
                return count
            hasher.update(block)
            count += len(block)


def verify_local(path: Path, expected: Expected, stop: threading.Event | None = None) -> tuple[bool, str]:
    try:
        size = path.stat().st_size
    except OSError:
        return False, "missing"
    if size != expected.size:
        return False, f"size {size}, expected {expected.size}"
    hasher = Hasher(expected)
    hash_file(path, hasher, stop)
    if not hasher.matches():
        return False, f"{hasher.kind} {hasher.hexdigest()[:12]}..., expected {hasher.expected[:12]}..."
    return True, "ok"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
