"""The control routes every stand-in offers under its prefix: health, state, what bills, the request log,
faults, settings and reset. The same switches and views as the Python API, over HTTP, for users in another
process (the sandbox, benchmarks, a Pulumi engine subprocess). No auth, no latency, no faults, and not
recorded in the request log: it is the test harness, not the service. A stand-in adds its own routes to the
router this returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from standin.core import CoreT, StandInSettings, core_of
from standin.errors import InvalidRequestError
from standin.jsonbody import JSON, opt_bool, opt_int, opt_number, opt_str, read_object, req_str


def control_router(
    prefix: str,
    *,
    service: str,
    core_type: type[CoreT],
    state: Callable[[CoreT], dict[str, Any]],
    billable: Callable[[CoreT], list[str]],
    apply_settings: Callable[[CoreT, JSON], dict[str, Any]],
) -> APIRouter:
    router = APIRouter(prefix=prefix)

    def core(request: Request) -> CoreT:
        return core_of(request, core_type)

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "emulation": True, "service": service}

    @router.get("/state")
    async def show_state(request: Request) -> dict[str, Any]:
        return state(core(request))

    @router.get("/billable")
    async def show_billable(request: Request) -> dict[str, Any]:
        return {"billable": billable(core(request))}

    @router.get("/requests")
    async def requests(request: Request) -> list[dict[str, Any]]:
        return [r.as_dict() for r in core(request).log.all()]

    @router.delete("/requests")
    async def clear_requests(request: Request) -> dict[str, Any]:
        core(request).log.clear()
        return {"ok": True}

    @router.get("/faults")
    async def list_faults(request: Request) -> list[dict[str, Any]]:
        return core(request).faults.snapshot()

    @router.post("/faults")
    async def add_fault(request: Request) -> dict[str, Any]:
        """Body: {path (regex over the URL path), method?, status?, times?, seconds?, retry_after?, message?,
        after?, cut_after?}, as standin.faults describes them."""
        body = await read_object(request)
        status = opt_int(body, "status")
        try:
            fault = core(request).faults.add(
                method=opt_str(body, "method") or "*",
                path=req_str(body, "path"),
                status=503 if status is None else status,
                times=opt_int(body, "times") or 1,
                retry_after=opt_number(body, "retry_after"),
                message=opt_str(body, "message"),
                after=bool(opt_bool(body, "after")),
                seconds=opt_number(body, "seconds"),
                cut_after=opt_int(body, "cut_after"),
            )
        except ValueError as exc:
            raise InvalidRequestError(str(exc)) from None
        return core(request).faults.describe(fault)

    @router.delete("/faults")
    async def clear_faults(request: Request) -> dict[str, Any]:
        core(request).faults.clear()
        return {"ok": True}

    @router.get("/settings")
    async def show_settings(request: Request) -> dict[str, Any]:
        settings: StandInSettings = core(request).settings
        return settings.snapshot()

    @router.post("/settings")
    async def change_settings(request: Request) -> dict[str, Any]:
        return apply_settings(core(request), await read_object(request))

    @router.post("/reset")
    async def reset(request: Request) -> dict[str, Any]:
        core(request).reset()
        return {"ok": True}

    return router
