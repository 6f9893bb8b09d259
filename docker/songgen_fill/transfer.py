"""Byte ranges of many files over a few parallel connections, each range fetched by huggingface_hub's http_get.

Every file still missing bytes is cut into pieces of at most ``PIECE`` bytes, queued biggest file first
and in file order, so each connection streams long ranges of one file and a file's hashed prefix grows
while it downloads. When the queue runs dry, an idle connection takes the back half of the biggest
range still in flight (never below ``MIN_SPLIT``): the last large file is not left to a single
connection, and all of them finish together. Each range is one ``http_get`` call (the library's
download loop: Range header, its own retries on a dropped connection, resuming where the body
stopped); the bytes land through ``RangeWriter`` at their offset in the file's sparse data file.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import constants
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.file_download import http_get
from songgen_boot.errors import StopRequestedError, TransientError
from songgen_boot.manifest import Target

from .partial import PartialFile
from .remote import EXPIRED_LINK_STATUSES, LinkExpiredError, Remote, RemoteFile, Source, hub_errors

MIB = 1024 * 1024
PIECE = 64 * MIB  # one request's range: long enough that a request's latency is a few percent of it
MIN_SPLIT = 8 * MIB  # a range is split in two only if both halves are at least this long
# http_get hands over what it receives in chunks of this size (10 MiB by default): a stop, a split or
# a dropped connection wastes at most one chunk, so a smaller one keeps all three cheap.
constants.DOWNLOAD_CHUNK_SIZE = MIB


@dataclasses.dataclass(eq=False)
class FileFetch:
    """One file to fetch: where it goes, its partial data, where its bytes come from."""

    target: Target
    commit: str
    remote: RemoteFile
    partial: PartialFile
    dest: Path
    attempts: int = 0  # failed attempts so far (any of its ranges, or a hash mismatch)
    finishing: bool = False
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    _source: Source | None = None

    @property
    def label(self) -> str:
        return f"{self.target.name}:{self.remote.path}"

    @property
    def size(self) -> int:
        return self.remote.expected.size

    def ready(self, remote: Remote) -> Source:
        """Where its bytes come from (asked once, again after a link expired), its data file open."""
        with self.lock:
            if self._source is None:
                self._source = remote.source(self.target.repo, self.commit, self.remote)
            self.partial.open()
            return self._source

    def forget_source(self) -> None:
        with self.lock:
            self._source = None


@dataclasses.dataclass(eq=False)
class Segment:
    """A byte range [pos, end) of a file; pos moves as bytes arrive, end moves back when it is split."""

    file: FileFetch
    pos: int
    end: int
    origin: int = 0  # where the request now streaming started: its chunks are counted from here


class SegmentEndError(Exception):
    """The range was split while it streamed and this connection has written its part: stop reading."""


class RangeIgnoredError(TransientError):
    """The server sent the whole file instead of the range asked for."""


class Scheduler:
    """The queue of ranges, the ranges in flight, and splitting the biggest of them for an idle connection."""

    def __init__(self, files: list[FileFetch], stop: threading.Event) -> None:
        self._cond = threading.Condition()
        self._queue: collections.deque[Segment] = collections.deque()
        self._active: list[Segment] = []
        self._unfinished = len(files)
        self._stop = stop
        self.failure: BaseException | None = None
        for file in sorted(files, key=lambda f: -f.size):
            self._enqueue(file, file.partial.missing())

    def _enqueue(self, file: FileFetch, gaps: list[tuple[int, int]]) -> None:
        for start, end in gaps:
            for piece in range(start, end, PIECE):
                self._queue.append(Segment(file, piece, min(end, piece + PIECE)))

    def take(self) -> Segment | None:
        """The next range to fetch; None once everything is done, or on a stop or a failure."""
        with self._cond:
            while True:
                if self.failure is not None or self._stop.is_set() or self._unfinished == 0:
                    return None
                segment = self._queue.popleft() if self._queue else self._split_biggest()
                if segment is not None:
                    self._active.append(segment)
                    return segment
                self._cond.wait(0.5)

    def _split_biggest(self) -> Segment | None:
        biggest = max(self._active, key=lambda s: s.end - s.pos, default=None)
        if biggest is None or biggest.end - biggest.pos < 2 * MIN_SPLIT:
            return None
        # At a chunk boundary of the running request: it stops there without discarding half a chunk.
        half = biggest.pos + (biggest.end - biggest.pos) // 2 - biggest.origin
        middle = biggest.origin + -(-half // constants.DOWNLOAD_CHUNK_SIZE) * constants.DOWNLOAD_CHUNK_SIZE
        if biggest.end - middle < MIN_SPLIT:
            return None
        back = Segment(biggest.file, middle, biggest.end, middle)
        biggest.end = middle
        return back

    def begin(self, segment: Segment) -> tuple[int, int]:
        """A request for the rest of the range starts: (first byte, end) to ask for."""
        with self._cond:
            segment.origin = segment.pos
            return segment.pos, segment.end

    def claim(self, segment: Segment, size: int) -> tuple[int, int]:
        """Where the next `size` received bytes go: (offset, how many of them still belong to this range)."""
        with self._cond:
            start = segment.pos
            count = max(0, min(size, segment.end - start))
            segment.pos += count
            return start, count

    def release(self, segment: Segment) -> None:
        with self._cond:
            self._active.remove(segment)
            self._cond.notify_all()

    def refetch(self, file: FileFetch) -> None:
        """A file whose hash did not match goes back to the queue whole."""
        with self._cond:
            self._enqueue(file, file.partial.missing())
            self._cond.notify_all()

    def file_done(self) -> None:
        with self._cond:
            self._unfinished -= 1
            self._cond.notify_all()

    def fail(self, error: BaseException) -> None:
        with self._cond:
            if self.failure is None:
                self.failure = error
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


class RangeWriter:
    """The file object http_get writes to: received bytes go to their offset in the partial file."""

    def __init__(
        self,
        segment: Segment,
        requested_end: int,
        scheduler: Scheduler,
        stop: threading.Event,
        on_bytes: Callable[[FileFetch, int], None],
    ) -> None:
        self.segment = segment
        self.requested_end = requested_end
        self.scheduler = scheduler
        self.stop = stop
        self.on_bytes = on_bytes

    def write(self, data: bytes) -> int:
        if self.stop.is_set() or self.scheduler.failure is not None:
            raise StopRequestedError
        start, count = self.scheduler.claim(self.segment, len(data))
        if count:
            self.segment.file.partial.write(start, memoryview(data)[:count])
            self.on_bytes(self.segment.file, count)
        if count < len(data) or start + count >= self.segment.end < self.requested_end:
            raise SegmentEndError  # split: the rest of this response belongs to another connection
        return len(data)

    def tell(self) -> int:
        return self.segment.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        # http_get rewinds only when a server answers a resumed range with the whole file.
        raise RangeIgnoredError("the server ignored the Range header")

    def truncate(self, size: int | None = None) -> int:
        raise RangeIgnoredError("the server ignored the Range header")


def fetch_range(
    segment: Segment,
    scheduler: Scheduler,
    remote: Remote,
    stop: threading.Event,
    on_bytes: Callable[[FileFetch, int], None],
) -> None:
    """One attempt at a range: returns when it is written (or split off), raises TransientError to retry."""
    file = segment.file
    source = file.ready(remote)
    start, end = scheduler.begin(segment)
    if start >= end:
        return
    headers = {**source.headers, "Range": f"bytes={start}-{end - 1}"}
    writer = RangeWriter(segment, end, scheduler, stop, on_bytes)
    try:
        with hub_errors(file.label):
            try:
                http_get(
                    source.url,
                    writer,  # type: ignore[arg-type]  # http_get needs write/tell/seek/truncate only
                    headers=headers,
                    expected_size=end - start,
                    displayed_filename=file.label,
                )
            except HfHubHTTPError as err:
                status = err.response.status_code if err.response is not None else 0
                if source.on_cdn and status in EXPIRED_LINK_STATUSES:
                    file.forget_source()
                    raise LinkExpiredError(
                        f"the Hub's link for {file.label} expired; asking for a new one"
                    ) from None
                raise
    except SegmentEndError:
        return
    except OSError as err:
        # http_get's size check failed (hub_errors has mapped the library's HTTP and network errors).
        raise TransientError(f"{file.label}: {err}") from None
