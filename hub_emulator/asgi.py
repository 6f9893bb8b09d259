"""The ASGI app: routes, plus the pipeline every request outside the control surface goes through.

Order: latency -> injected fault -> route (auth happens in the route, as each route decides what a caller may
see) -> the fault's after-effect, then the request is recorded. The pipeline is plain ASGI rather than an HTTP
middleware so it can count the body bytes actually sent, cut a body mid-way and stamp a request id on every
answer, without buffering streamed downloads. The server must run with uvicorn's `date_header=False`: the
pipeline stamps an exact Date itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub_emulator import (
    buckets,
    commits,
    control,
    downloads,
    logs,
    repos,
    spaces,
    tree,
    users,
    visits,
)
from hub_emulator.core import Core
from hub_emulator.errors import HubError, error_response
from hub_emulator.faults import Fault
from hub_emulator.reqlog import RequestRecord, redact_query, redact_text

# Set while a response is cut on purpose, so uvicorn's complaint about the unfinished response (which is the
# whole point: the client must see a dropped connection) is not logged as a server error.
_CUT_ON_PURPOSE: contextvars.ContextVar[bool] = contextvars.ContextVar("hub_emulator_cut", default=False)
_UNFINISHED = "ASGI callable returned without completing response."


class _QuietIntendedCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_CUT_ON_PURPOSE.get() and record.getMessage() == _UNFINISHED)


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietIntendedCuts) for f in logger.filters):
        logger.addFilter(_QuietIntendedCuts())


def classify(path: str) -> str:
    if path.startswith(control.PREFIX + "/"):
        return "control"
    if path.startswith(visits.PREFIX + "/"):
        return "visit"
    if path.startswith(downloads.CDN_PREFIX + "/"):
        return "cdn"
    if downloads.is_resolve_path(path):
        return "download"
    return "api"


@dataclass
class _Exchange:
    """One request as it goes through the pipeline; recorded in the log once, just before its answer ends."""

    core: Core
    method: str
    path: str
    headers: dict[str, str]
    query: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    arrived: float = field(default_factory=time.time)
    began: float = field(default_factory=time.monotonic)
    status: int = 0
    sent: int = 0
    expected: int | None = None  # Content-Length of the answer, when it declares one
    started: bool = False
    finished: bool = False
    cut: bool = False
    recorded: bool = False

    @property
    def token(self) -> str | None:
        return self.headers.get("authorization", "").partition(" ")[2].strip() or None

    def record(self) -> None:
        """Log the request before the client can see the end of its answer, so a test that asserts on the log
        right after its call never races the server."""
        if self.recorded:
            return
        self.recorded = True
        kind = classify(self.path)
        self.core.log.add(
            RequestRecord(
                method=self.method,
                host=self.headers.get("host", ""),
                path=redact_text(self.path, self.token),
                query=redact_query(self.query, self.token),
                kind=kind,
                status=self.status,
                authorized="authorization" in self.headers,
                bytes_sent=self.sent,
                duration_s=round(time.monotonic() - self.began, 6),
                at=self.arrived,
                space=visits.space_for_path(self.core, self.path) if kind == "visit" else None,
            )
        )


class Pipeline:
    def __init__(self, core: Core, app: FastAPI) -> None:
        self.core = core
        self.app = app
        _install_log_filter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if classify(scope["path"]) == "control":
            await self.app(scope, receive, _dated(send))
            return
        exchange = _Exchange(
            self.core,
            scope["method"],
            scope["path"],
            {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            scope.get("query_string", b"").decode("latin-1"),
        )
        if self.core.settings.latency > 0:
            await asyncio.sleep(self.core.settings.latency)
        fault = self.core.faults.take(exchange.method, exchange.path)
        if fault is not None and not fault.after and fault.cut_after is None:
            await _send_error(fault.error(), scope, receive, send, exchange)
        else:
            await self._run(scope, receive, send, exchange, fault)
            if (
                fault is not None and fault.after
            ):  # the route's answer was swallowed: the client hears the fault
                await _send_error(fault.error(), scope, receive, send, exchange)
        exchange.record()  # a client that went away mid-answer: record what was sent
        if exchange.cut:
            _CUT_ON_PURPOSE.set(True)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, exchange: _Exchange, fault: Fault | None
    ) -> None:
        swallow = fault is not None and fault.after
        cut_after = fault.cut_after if fault is not None else None
        head = scope["method"] == "HEAD"  # uvicorn drops a HEAD body: it is never sent

        async def wrapped(message: Message) -> None:
            if exchange.cut or swallow:
                return
            if message["type"] == "http.response.start":
                exchange.status, exchange.started = message["status"], True
                headers = [*message.get("headers", []), *_stamp(exchange.request_id)]
                length = dict(headers).get(b"content-length")
                exchange.expected = None if head or length is None else int(length)
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                body: bytes = b"" if head else message.get("body", b"")
                if cut_after is not None and exchange.sent + len(body) >= cut_after:
                    keep = max(0, cut_after - exchange.sent)
                    exchange.sent += keep
                    exchange.cut = True  # stop here: the connection drops without finishing the body
                    exchange.record()
                    if keep > 0:
                        await send({"type": "http.response.body", "body": body[:keep], "more_body": True})
                    return
                exchange.sent += len(body)
                exchange.finished = not message.get("more_body", False) or (
                    exchange.expected is not None and exchange.sent >= exchange.expected
                )
                if exchange.finished:
                    exchange.record()
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        except Exception as exc:  # the stand-in's own bug: answer like a server error, keep serving
            if exchange.finished:
                logging.getLogger(__name__).exception("error in the Hub stand-in after answering")
                return
            if exchange.started:
                raise
            error = HubError(500, f"internal error in the Hub stand-in: {type(exc).__name__}: {exc}")
            await _send_error(error, scope, receive, send, exchange)


async def _send_error(
    error: HubError, scope: Scope, receive: Receive, send: Send, exchange: _Exchange
) -> None:
    response = error.response()
    response.raw_headers.extend(_stamp(exchange.request_id))
    exchange.status = error.status
    exchange.sent += 0 if scope["method"] == "HEAD" else len(response.body)
    exchange.record()
    await response(scope, receive, send)


def _stamp(request_id: str) -> list[tuple[bytes, bytes]]:
    """Headers on every answer: a request id, and a Date to the second (uvicorn's own is refreshed only once a
    second, up to two seconds stale, and `fetch_space_logs` stops at events later than Date + 1 s)."""
    return [(b"x-request-id", request_id.encode()), (b"date", formatdate(time.time(), usegmt=True).encode())]


def _dated(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            date = (b"date", formatdate(time.time(), usegmt=True).encode())
            message = {**message, "headers": [*message.get("headers", []), date]}
        await send(message)

    return wrapped


def build_app(core: Core) -> ASGIApp:
    app = FastAPI(title="Hugging Face Hub stand-in", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.core = core
    for module in (control, users, repos, commits, tree, spaces, logs, buckets, visits, downloads):
        app.include_router(module.router)

    @app.exception_handler(HubError)
    async def _hub_error(_: Request, exc: HubError) -> Response:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Say it is the route that is unknown, so a client never mistakes it for "this repo is gone".
        what = {404: "no such route", 405: "method not allowed on this route"}.get(exc.status_code)
        message = f"{what}: {request.method} {request.url.path}" if what else None
        return error_response(exc.status_code, message)

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> Response:
        return error_response(500, f"internal error in the Hub stand-in: {type(exc).__name__}: {exc}")

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> Response:
        return error_response(400, f"invalid request: {exc.errors()}")

    return Pipeline(core, app)
