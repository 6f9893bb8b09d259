"""The pipeline in front of a stand-in's routes: latency -> injected fault -> the routes -> the fault's
after-effect, then the request is handed to the stand-in's recorder. The control surface (`control_prefix`)
goes straight through: no latency, no faults, not recorded.

It is plain ASGI rather than an HTTP middleware so that it can count the body bytes actually sent, cut a body
mid-way (`cut_after`) and stamp a request id on every answer without buffering streamed downloads. Each
request is recorded once, just before the client can see the end of its answer, so a test that asserts on the
log right after its call never races the server.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from standin.core import StandInCore
from standin.errors import ErrorShape
from standin.faults import Fault

# Set while a response is cut on purpose, so uvicorn's complaint about the unfinished response (which is the
# whole point: the client must see a dropped connection) is not logged as a server error.
_CUT_ON_PURPOSE: contextvars.ContextVar[bool] = contextvars.ContextVar("standin_cut", default=False)
_UNFINISHED = "ASGI callable returned without completing response."


class _QuietIntendedCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_CUT_ON_PURPOSE.get() and record.getMessage() == _UNFINISHED)


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietIntendedCuts) for f in logger.filters):
        logger.addFilter(_QuietIntendedCuts())


@dataclass
class Exchange:
    """One request on its way through the pipeline, as the recorder sees it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""  # the request body, when the pipeline keeps it
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    arrived: float = field(default_factory=time.time)  # unix seconds
    began: float = field(default_factory=time.monotonic)
    status: int = 0
    sent: int = 0  # response body bytes written to the connection
    expected: int | None = None  # Content-Length of the answer, when it declares one
    started: bool = False
    finished: bool = False
    cut: bool = False
    recorded: bool = False

    @property
    def credential(self) -> str | None:
        """Whatever follows the scheme in Authorization, even for a scheme the service refuses: what a record
        must scrub."""
        return self.headers.get("authorization", "").strip().partition(" ")[2].strip() or None

    def duration(self) -> float:
        return round(time.monotonic() - self.began, 6)


Recorder = Callable[[Exchange], None]


class Pipeline:
    def __init__(
        self,
        app: ASGIApp,
        core: StandInCore[Any, Any, Any],
        *,
        shape: ErrorShape,
        record: Recorder,
        control_prefix: str,
        request_id_header: str | None = None,
        keep_body: bool = False,
    ) -> None:
        self.app = app
        self.core = core
        self.shape = shape
        self._recorder = record
        self._control = control_prefix + "/"
        self._request_id = request_id_header.lower().encode() if request_id_header else None
        self._keep_body = keep_body
        _install_log_filter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self._control):
            await self.app(scope, receive, send)
            return
        exchange = Exchange(
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
        )
        if self._keep_body:
            exchange.body, receive = await _buffered(receive)
        if self.core.settings.latency > 0:
            await asyncio.sleep(self.core.settings.latency)
        fault = self.core.faults.take(exchange.method, exchange.path)
        if fault is not None and not fault.after and fault.cut_after is None:
            await self._answer(self._fault_answer(fault), scope, receive, send, exchange)
        else:
            await self._run(scope, receive, send, exchange, fault)
            if (
                fault is not None and fault.after
            ):  # the route's answer was swallowed: the client hears the fault
                await self._answer(self._fault_answer(fault), scope, receive, send, exchange)
        self._record(exchange)  # a client that went away mid-answer: record what was sent
        if exchange.cut:
            _CUT_ON_PURPOSE.set(True)

    def _fault_answer(self, fault: Fault) -> Response:
        return self.shape.answer(fault.status, fault.message, headers=fault.answer_headers())

    def _record(self, exchange: Exchange) -> None:
        if not exchange.recorded:
            exchange.recorded = True
            self._recorder(exchange)

    def _stamp(self, exchange: Exchange) -> list[tuple[bytes, bytes]]:
        return [] if self._request_id is None else [(self._request_id, exchange.request_id.encode())]

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, exchange: Exchange, fault: Fault | None
    ) -> None:
        swallow = fault is not None and fault.after
        cut_after = None if fault is None else fault.cut_after
        head = scope["method"] == "HEAD"  # uvicorn drops a HEAD body: it is never sent

        async def forward(message: Message) -> None:
            if exchange.cut or swallow:
                return
            if message["type"] == "http.response.start":
                exchange.status, exchange.started = message["status"], True
                headers = [*message.get("headers", []), *self._stamp(exchange)]
                length = dict(headers).get(b"content-length")
                exchange.expected = None if head or length is None else int(length)
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                body: bytes = b"" if head else message.get("body", b"")
                if cut_after is not None and exchange.sent + len(body) >= cut_after:
                    keep = max(0, cut_after - exchange.sent)
                    exchange.sent += keep
                    exchange.cut = True  # stop here: the connection drops without finishing the body
                    self._record(exchange)
                    if keep > 0:
                        await send({"type": "http.response.body", "body": body[:keep], "more_body": True})
                    return
                exchange.sent += len(body)
                exchange.finished = not message.get("more_body", False) or (
                    exchange.expected is not None and exchange.sent >= exchange.expected
                )
                if exchange.finished:
                    self._record(exchange)
            await send(message)

        try:
            await self.app(scope, receive, forward)
        except Exception as exc:  # the stand-in's own bug: answer like a server error, keep serving
            if exchange.finished or swallow:  # answered already, or the fault's answer follows
                logging.getLogger(__name__).exception("error in a stand-in's route after it answered")
                return
            if exchange.started:
                raise
            await self._answer(self.shape.bug(exc), scope, receive, send, exchange)

    async def _answer(
        self, response: Response, scope: Scope, receive: Receive, send: Send, exchange: Exchange
    ) -> None:
        response.raw_headers.extend(self._stamp(exchange))
        exchange.status = response.status_code
        exchange.sent += 0 if scope["method"] == "HEAD" else len(response.body)
        self._record(exchange)
        await response(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body now (so a refused request is recorded with it too), and a `receive` that
    hands it to the routes as if it had not been read."""
    chunks: list[bytes] = []
    more = True
    while more:  # bounded by the body the client sends; a disconnect ends it
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body, replayed = b"".join(chunks), False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
