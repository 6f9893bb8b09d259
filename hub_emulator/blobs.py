"""File contents: in memory, on disk, or synthetic (deterministic bytes of any size, never held in memory).

Hashes are computed once, when a blob is made (in the caller's thread, not on the server's event loop), so a
benchmark can seed gigabytes without the server stalling on a sha256 mid-request.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HASH_CHUNK = 1024 * 1024
# Synthetic content repeats a pseudo-random block whose length is prime, so byte values depend on the
# position in a way a shifted or misplaced range cannot reproduce.
_SYNTHETIC_PERIOD = 1_048_573


@dataclass(frozen=True)
class SyntheticContent:
    """`size` deterministic pseudo-random bytes from `seed`: large files without the memory."""

    size: int
    seed: int = 0


Content = bytes | str | Path | SyntheticContent


def synthetic(size: int, seed: int = 0) -> SyntheticContent:
    if size < 0:
        raise ValueError("size must not be negative")
    return SyntheticContent(size, seed)


class Blob:
    """Immutable file content with the hashes the Hub reports for it."""

    def __init__(self, size: int, source: bytes | Path | SyntheticContent) -> None:
        self.size = size
        self._source = source
        sha256 = hashlib.sha256()
        git = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
        for chunk in self.chunks(0, size):
            sha256.update(chunk)
            git.update(chunk)
        self.sha256 = sha256.hexdigest()
        self.git_oid = git.hexdigest()  # what `git hash-object` gives: a regular file's oid and ETag

    @classmethod
    def of(cls, content: Content) -> Blob:
        if isinstance(content, str):
            content = content.encode()
        if isinstance(content, bytes):
            return cls(len(content), content)
        if isinstance(content, Path):
            return cls(content.stat().st_size, content)
        return cls(content.size, content)

    @property
    def kind(self) -> str:
        if isinstance(self._source, bytes):
            return "bytes"
        return "file" if isinstance(self._source, Path) else "synthetic"

    def chunks(self, start: int, end: int, chunk_size: int = HASH_CHUNK) -> Iterator[bytes]:
        """Bytes [start, end) in pieces of at most `chunk_size`."""
        if isinstance(self._source, bytes):
            for offset in range(start, end, chunk_size):
                yield self._source[offset : min(end, offset + chunk_size)]
        elif isinstance(self._source, Path):
            with self._source.open("rb") as handle:
                handle.seek(start)
                remaining = end - start
                while remaining > 0:
                    piece = handle.read(min(chunk_size, remaining))
                    if not piece:
                        raise OSError(f"{self._source} shrank while being served")
                    remaining -= len(piece)
                    yield piece
        else:
            block = _synthetic_block(self._source.seed)
            for offset in range(start, end, chunk_size):
                stop = min(end, offset + chunk_size)
                yield _synthetic_slice(block, offset, stop)

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        return b"".join(self.chunks(start, self.size if end is None else end))

    def lfs_pointer(self) -> bytes:
        """The git-lfs pointer file the repository itself holds for an LFS file."""
        return f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {self.size}\n".encode()

    def lfs_pointer_oid(self) -> str:
        pointer = self.lfs_pointer()
        return hashlib.sha1(f"blob {len(pointer)}\0".encode() + pointer, usedforsecurity=False).hexdigest()


_BLOCKS: dict[int, bytes] = {}


def _synthetic_block(seed: int) -> bytes:
    block = _BLOCKS.get(seed)
    if block is None:
        block = random.Random(seed).randbytes(_SYNTHETIC_PERIOD)
        _BLOCKS[seed] = block
    return block


def _synthetic_slice(block: bytes, start: int, stop: int) -> bytes:
    out = bytearray()
    position = start
    while position < stop:
        offset = position % _SYNTHETIC_PERIOD
        take = min(stop - position, _SYNTHETIC_PERIOD - offset)
        out += block[offset : offset + take]
        position += take
    return bytes(out)
