"""Whether a local file is the one a repo lists: its size, then its sha256 or git blob id."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from .errors import StopRequestedError
from .hub import RemoteFile

CHUNK = 1024 * 1024


class Hasher:
    """sha256 of the content, or the git blob id (sha1 over a 'blob <size>' header)."""

    def __init__(self, expected: RemoteFile) -> None:
        self.kind = "sha256" if expected.sha256 else ("git_sha1" if expected.git_oid else "size")
        if self.kind == "git_sha1":
            self._h = hashlib.sha1(f"blob {expected.size}\0".encode(), usedforsecurity=False)
        else:
            self._h = hashlib.sha256()
        self.expected = expected.sha256 or expected.git_oid or ""

    def update(self, data: bytes) -> None:
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


def verify_local(path: Path, expected: RemoteFile, stop: threading.Event | None = None) -> tuple[bool, str]:
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
