"""Streamed response bodies: file downloads (ranges, bandwidth cap) and server-sent events.

`StreamResponse` sends its chunks itself instead of going through Starlette's task group, and stops as soon as
the client disconnects (uvicorn's ASGI 2.3 `send` silently drops data after a disconnect, so a throttled
download would otherwise keep "sending" into the void).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hub_emulator.blobs import Blob
from hub_emulator.errors import HubError

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
CHUNK = 64 * 1024
# A throttled stream sends chunks of about this many seconds' worth of bytes.
THROTTLE_SLICE_S = 0.05


class StreamResponse(Response):
    def __init__(
        self,
        chunks: Callable[[], AsyncIterator[bytes]],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self._chunks = chunks
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        disconnected = asyncio.Event()

        async def listen() -> None:
            while not disconnected.is_set():
                if (await receive())["type"] == "http.disconnect":
                    disconnected.set()

        listener = asyncio.create_task(listen())
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            if scope["method"] != "HEAD":
                async for chunk in self._chunks():
                    if disconnected.is_set():
                        return
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            listener.cancel()


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The [start, end) a `Range` header asks for, None for the whole file, 416 when unsatisfiable."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None  # a malformed or multi-range header is ignored, as HTTP allows
    first, last = match.groups()
    if not first:  # suffix range: the last N bytes
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = size if not last else min(size, int(last) + 1)
    if start >= size or start >= end:
        raise HubError(
            416, f"Requested range not satisfiable: {header}", headers={"Content-Range": f"bytes */{size}"}
        )
    return start, end


def blob_chunks(
    blob: Blob, start: int, end: int, bandwidth: float | None
) -> Callable[[], AsyncIterator[bytes]]:
    """Bytes [start, end) of a blob, no faster than `bandwidth` bytes per second when one is set."""

    async def generate() -> AsyncIterator[bytes]:
        size = CHUNK if bandwidth is None else max(1, min(CHUNK, int(bandwidth * THROTTLE_SLICE_S)))
        began, sent = time.monotonic(), 0
        for piece in blob.chunks(start, end, size):
            sent += len(piece)
            if bandwidth is not None:
                # A piece leaves no earlier than the cap allows for everything up to its end.
                ahead = sent / bandwidth - (time.monotonic() - began)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            yield piece

    return generate
