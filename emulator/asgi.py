"""The ASGI app: the routes, behind the shared pipeline (standin.pipeline: latency, injected faults, the
request log) and Fly's own gate.

Order for /v1 requests: latency -> injected fault -> gate (route prefix, auth, rate limit) -> handler, then the
request is recorded (redacted). Anything outside /v1 and /__emulator is a JSON 404, like any unknown route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp

from emulator import apps, control, ips, leases, machines, secrets, volumes, wait
from emulator.core import Core
from emulator.errors import SHAPE, error_response
from emulator.ratelimit import retry_after_header
from emulator.reqlog import RequestRecord, redact_body
from standin.app import service_app
from standin.pipeline import Exchange, Pipeline, Recorder
from standin.reqlog import redact_query, redact_text

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


def _add_gate(app: FastAPI, core: Core) -> None:
    @app.middleware("http")
    async def gate(request: Request, call_next: Next) -> Response:
        """What Fly checks before any route: the /v1 prefix, the token, the rate limits."""
        method, path = request.method, request.url.path
        if path.startswith(control.PREFIX + "/"):
            return await call_next(request)
        if not (path == "/v1" or path.startswith("/v1/")):
            return error_response(404, f"no such route: {method} {path}")
        token = presented_token(request)
        if token is None or not core.token_accepted(token):
            return error_response(401, AUTH_ERROR)
        if core.settings.rate_limit:
            wait = core.limiter.check(method, path)
            if wait is not None:
                return error_response(
                    429, "rate limit exceeded", headers={"Retry-After": retry_after_header(wait)}
                )
        return await call_next(request)


def _recorder(core: Core) -> Recorder:
    def record(exchange: Exchange) -> None:
        credential = exchange.credential
        core.log.add(
            RequestRecord(
                method=exchange.method,
                path=redact_text(exchange.path, credential),
                query=redact_query(exchange.query, credential),
                status=exchange.status,
                duration_s=exchange.duration(),
                body=redact_body(exchange.path, exchange.body, credential),
                at=exchange.arrived,
            )
        )

    return record


def build_app(core: Core) -> ASGIApp:
    routers = [m.router for m in (apps, machines, leases, wait, volumes, secrets, ips, control)]
    app = service_app("Fly Machines API emulator", core, SHAPE, routers)
    _add_gate(app, core)
    return Pipeline(
        app, core, shape=SHAPE, record=_recorder(core), control_prefix=control.PREFIX, keep_body=True
    )
