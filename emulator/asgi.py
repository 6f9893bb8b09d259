"""The ASGI app: routes plus the pipeline every API request goes through.

Order for /v1 requests: latency -> injected fault -> auth -> rate limit -> handler, then the request is
recorded (redacted). Anything outside /v1 and /__emulator is a JSON 404, like any unknown route.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from emulator import apps, control, ips, leases, machines, secrets, volumes, wait
from emulator.core import Core, get_core
from emulator.errors import FlyError, error_response
from emulator.ratelimit import retry_after_header
from emulator.reqlog import RequestRecord, redact_body, redact_path, redact_query

Next = Callable[[Request], Awaitable[Response]]
AUTH_SCHEMES = ("bearer", "flyv1")
# What Fly answers for a token it cannot validate (observed: {"error": "Authenticate: token validation error"}).
AUTH_ERROR = "Authenticate: token validation error"


def presented_token(request: Request) -> str | None:
    """The credential from `Authorization: Bearer <token>` or `FlyV1 <token>`, else None."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() not in AUTH_SCHEMES or not credential:
        return None
    return credential


def _raw_credential(request: Request) -> str | None:
    """Whatever follows the scheme, even for a scheme Fly rejects: scrubbed from the log all the same."""
    _, _, credential = request.headers.get("authorization", "").strip().partition(" ")
    return credential.strip() or None


async def _handle(core: Core, request: Request, call_next: Next, token: str | None) -> Response:
    method, path = request.method, request.url.path
    if core.settings.latency > 0:
        await asyncio.sleep(core.settings.latency)
    fault = core.faults.take(method, path)
    if fault is not None and not fault.after:
        return fault.error().response()
    if not (path == "/v1" or path.startswith("/v1/")):
        return error_response(404, f"no such route: {method} {path}")
    if token is None or not core.token_accepted(token):
        return error_response(401, AUTH_ERROR)
    if core.settings.rate_limit:
        wait = core.limiter.check(method, path)
        if wait is not None:
            return error_response(
                429, "rate limit exceeded", headers={"Retry-After": retry_after_header(wait)}
            )
    try:
        response = await call_next(request)
    except Exception as exc:  # the emulator's own bug: answer like a server error, keep serving
        response = error_response(500, f"internal emulator error: {type(exc).__name__}: {exc}")
    if fault is not None:  # an `after` fault: the call took effect, the client never hears so
        return fault.error().response()
    return response


def build_app(core: Core) -> FastAPI:
    app = FastAPI(title="Fly Machines API emulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.core = core
    for module in (apps, machines, leases, wait, volumes, secrets, ips, control):
        app.include_router(module.router)

    @app.exception_handler(FlyError)
    async def _fly_error(_: Request, exc: FlyError) -> Response:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Say it is the route that is unknown, so a client never mistakes it for "this machine is gone".
        what = {404: "no such route", 405: "method not allowed on this route"}.get(exc.status_code)
        message = f"{what}: {request.method} {request.url.path}" if what else None
        return error_response(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> Response:
        return error_response(400, f"invalid request: {exc.errors()}")

    @app.middleware("http")
    async def pipeline(request: Request, call_next: Next) -> Response:
        if request.url.path.startswith(control.PREFIX + "/"):
            return await call_next(request)
        state = get_core(request)
        started, arrived = time.monotonic(), time.time()
        raw = await request.body()
        token = _raw_credential(request)
        response = await _handle(state, request, call_next, presented_token(request))
        state.log.add(
            RequestRecord(
                method=request.method,
                path=redact_path(request.url.path, token),
                query=redact_query(request.url.query, token),
                status=response.status_code,
                duration_s=round(time.monotonic() - started, 6),
                body=redact_body(request.url.path, raw, token),
                at=arrived,
            )
        )
        return response

    return app
