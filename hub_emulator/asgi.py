"""The ASGI app: the routes behind the shared pipeline (standin.pipeline: latency, injected faults, the request
log, a request id on every answer), with an exact Date on every answer.

Order: latency -> injected fault -> route (auth happens in the route, as each route decides what a caller may
see) -> the fault's after-effect, then the request is recorded. The server must run with `UVICORN_OPTIONS`
(uvicorn's own Date is refreshed only once a second, up to two seconds stale, and `fetch_space_logs` stops at
events later than Date + 1 s), so the stand-in stamps Date itself.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

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
from hub_emulator.errors import SHAPE
from hub_emulator.reqlog import RequestRecord
from standin.app import service_app
from standin.pipeline import Exchange, Pipeline, Recorder
from standin.reqlog import redact_query, redact_text

UVICORN_OPTIONS: dict[str, Any] = {"date_header": False}


def classify(path: str) -> str:
    if path.startswith(visits.PREFIX + "/"):
        return "visit"
    if path.startswith(downloads.CDN_PREFIX + "/"):
        return "cdn"
    if downloads.is_resolve_path(path):
        return "download"
    return "api"


def _recorder(core: Core) -> Recorder:
    def record(exchange: Exchange) -> None:
        credential, kind = exchange.credential, classify(exchange.path)
        core.log.add(
            RequestRecord(
                method=exchange.method,
                host=exchange.headers.get("host", ""),
                path=redact_text(exchange.path, credential),
                query=redact_query(exchange.query, credential),
                kind=kind,
                status=exchange.status,
                authorized="authorization" in exchange.headers,
                bytes_sent=exchange.sent,
                duration_s=exchange.duration(),
                at=exchange.arrived,
                space=visits.space_for_path(core, exchange.path) if kind == "visit" else None,
            )
        )

    return record


class _Dated:
    """Stamps an exact Date on every answer, the control surface's included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                date = (b"date", formatdate(time.time(), usegmt=True).encode())
                message = {**message, "headers": [*message.get("headers", []), date]}
            await send(message)

        await self.app(scope, receive, dated)


def build_app(core: Core) -> ASGIApp:
    modules = (control, users, repos, commits, tree, spaces, logs, buckets, visits, downloads)
    app = service_app("Hugging Face Hub stand-in", core, SHAPE, [m.router for m in modules])
    pipeline = Pipeline(
        app,
        core,
        shape=SHAPE,
        record=_recorder(core),
        control_prefix=control.PREFIX,
        request_id_header="X-Request-Id",
    )
    return _Dated(pipeline)
