"""The FastAPI app a stand-in's routes live in: every failure, including an unknown route and the stand-in's
own bug, answers in the service's error shape."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from standin.core import StandInCore
from standin.errors import ErrorShape, ServiceError


def service_app(
    title: str, core: StandInCore[Any, Any, Any], shape: ErrorShape, routers: Iterable[APIRouter]
) -> FastAPI:
    app = FastAPI(title=title, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.core = core
    for router in routers:
        app.include_router(router)

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> Response:
        return shape.render(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Say it is the route that is unknown, so a client never mistakes it for "this thing is gone".
        what = {404: "no such route", 405: "method not allowed on this route"}.get(exc.status_code)
        message = f"{what}: {request.method} {request.url.path}" if what else None
        return shape.answer(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> Response:
        return shape.answer(400, f"invalid request: {exc.errors()}")

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> Response:
        return shape.bug(exc)

    return app
