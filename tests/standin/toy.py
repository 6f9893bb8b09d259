"""A toy stand-in built only from the kit, so the kit's tests need neither Fly's nor the Hub's rules: a store
of named integers under /api, a download of N bytes, a route with a bug, and the control surface at /__toy."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import ASGIApp

from standin.app import service_app
from standin.control import control_router
from standin.core import StandInCore, core_of
from standin.errors import ErrorShape, ServiceError
from standin.jsonbody import opt_int, read_object
from standin.pipeline import Exchange, Pipeline, Recorder
from standin.server import StandInServer
from standin.settings import Check, apply_settings, number

CONTROL = "/__toy"


@dataclass
class ToySettings:
    latency: float = 0.0

    def snapshot(self) -> dict[str, Any]:
        return {"latency": self.latency}


@dataclass
class ToyStore:
    items: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ToyRecord:
    method: str
    path: str
    status: int
    bytes_sent: int
    body: bytes
    request_id: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "body": self.body.decode()}


class ToyCore(StandInCore[ToySettings, ToyStore, ToyRecord]):
    def __init__(self) -> None:
        super().__init__(ToySettings(), ToyStore, max_records=100)


def render(error: ServiceError) -> JSONResponse:
    return JSONResponse({"problem": error.message}, status_code=error.status, headers=error.headers)


SHAPE = ErrorShape(render, {404: "nothing here"}, fallback="trouble", internal="toy bug")
CHECKS: dict[str, Check] = {"latency": number(minimum=0.0)}

api = APIRouter(prefix="/api")


def _core(request: Request) -> ToyCore:
    return core_of(request, ToyCore)


@api.get("/items/{name}")
async def get_item(name: str, request: Request) -> dict[str, Any]:
    core = _core(request)
    with core.lock:
        if name not in core.store.items:
            raise ServiceError(404, f"no item {name}")
        return {"name": name, "value": core.store.items[name]}


@api.put("/items/{name}")
async def put_item(name: str, request: Request) -> dict[str, Any]:
    value = opt_int(await read_object(request), "value") or 0
    core = _core(request)
    with core.lock:
        core.store.items[name] = value
    return {"name": name, "value": value}


@api.get("/bytes/{size}")
async def download(size: int) -> StreamingResponse:
    async def chunks() -> Any:
        for start in range(0, size, 1000):
            yield b"x" * min(1000, size - start)

    return StreamingResponse(chunks(), headers={"Content-Length": str(size)})


@api.get("/bug")
async def bug() -> dict[str, Any]:
    raise RuntimeError("the toy broke")


def _recorder(core: ToyCore) -> Recorder:
    def record(exchange: Exchange) -> None:
        core.log.add(
            ToyRecord(
                exchange.method,
                exchange.path,
                exchange.status,
                exchange.sent,
                exchange.body,
                exchange.request_id,
            )
        )

    return record


def build_app(core: ToyCore, *, request_id_header: str | None = "X-Toy-Request") -> ASGIApp:
    control = control_router(
        CONTROL,
        service="toy stand-in",
        core_type=ToyCore,
        state=lambda c: {"items": dict(c.store.items), "faults": c.faults.snapshot()},
        billable=lambda c: [f"item {name}" for name in sorted(c.store.items)],
        apply_settings=lambda c, changes: apply_settings(c, CHECKS, changes),
    )
    app = service_app("toy stand-in", core, SHAPE, [api, control])
    return Pipeline(
        app,
        core,
        shape=SHAPE,
        record=_recorder(core),
        control_prefix=CONTROL,
        request_id_header=request_id_header,
        keep_body=True,
    )


class ToyError(RuntimeError):
    pass


class ToyServer(StandInServer[ToyCore, ToyRecord]):
    def __init__(self, *, port: int = 0) -> None:
        core = ToyCore()
        super().__init__(
            core,
            build_app(core),
            host="127.0.0.1",
            port=port,
            thread_name="toy-stand-in",
            called="the toy",
            error=ToyError,
        )
