"""The control surface under /__emulator/: the same switches and views as the Python API, over HTTP, for
users in another process (the sandbox, benchmarks, a Pulumi engine subprocess). No auth, no latency, no
faults, no rate limits, and not recorded in the request log: it is the test harness, not the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from emulator import introspect
from emulator.core import get_core
from emulator.errors import bad_request
from emulator.jsonbody import opt_bool, opt_int, opt_obj, opt_str, read_object, req_str

PREFIX = "/__emulator"
router = APIRouter(prefix=PREFIX)


@router.get("/health")
async def health() -> dict[str, Any]:
    return {"ok": True, "emulation": True, "service": "Fly Machines API emulator"}


@router.get("/state")
async def state(request: Request) -> dict[str, Any]:
    return introspect.state_snapshot(get_core(request))


@router.get("/billable")
async def billable(request: Request) -> dict[str, Any]:
    return {"billable": introspect.billable(get_core(request))}


@router.get("/requests")
async def requests(request: Request) -> list[dict[str, Any]]:
    return [r.as_dict() for r in get_core(request).log.all()]


@router.delete("/requests")
async def clear_requests(request: Request) -> dict[str, Any]:
    get_core(request).log.clear()
    return {"ok": True}


@router.get("/faults")
async def list_faults(request: Request) -> list[dict[str, Any]]:
    return get_core(request).faults.snapshot()


@router.post("/faults")
async def add_fault(request: Request) -> dict[str, Any]:
    """Body: {method, path (regex over the URL path), status, times?, seconds?, retry_after?, message?, after?}."""
    body = await read_object(request)
    retry_after, seconds = body.get("retry_after"), body.get("seconds")
    for name, value in (("retry_after", retry_after), ("seconds", seconds)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise bad_request(f"{name} must be a number of seconds")
    status = opt_int(body, "status")
    if status is None:
        raise bad_request("status is required")
    try:
        fault = get_core(request).faults.add(
            method=opt_str(body, "method") or "*",
            path=req_str(body, "path"),
            status=status,
            times=opt_int(body, "times") or 1,
            retry_after=None if retry_after is None else float(retry_after),
            message=opt_str(body, "message"),
            after=bool(opt_bool(body, "after")),
            seconds=None if seconds is None else float(seconds),
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return fault.snapshot()


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    get_core(request).faults.clear()
    return {"ok": True}


@router.get("/settings")
async def show_settings(request: Request) -> dict[str, Any]:
    return get_core(request).settings.snapshot()


@router.post("/settings")
async def change_settings(request: Request) -> dict[str, Any]:
    return introspect.apply_settings(get_core(request), await read_object(request))


@router.post("/reserved-app-names")
async def reserve_app_name(request: Request) -> dict[str, Any]:
    introspect.reserve_app_name(get_core(request), req_str(await read_object(request), "name"))
    return {"ok": True}


@router.post("/orgs")
async def add_org(request: Request) -> dict[str, Any]:
    body = await read_object(request)
    introspect.add_org(get_core(request), req_str(body, "slug"), opt_str(body, "name"))
    return {"ok": True}


@router.post("/failing-images")
async def add_failing_image(request: Request) -> dict[str, Any]:
    introspect.add_failing_image(get_core(request), req_str(await read_object(request), "image"))
    return {"ok": True}


@router.get("/apps/{app_name}/volumes/{volume_id}/data")
async def volume_data(app_name: str, volume_id: str, request: Request) -> dict[str, Any]:
    return introspect.volume_data(get_core(request), app_name, volume_id)


@router.put("/apps/{app_name}/volumes/{volume_id}/data")
async def set_volume_data(app_name: str, volume_id: str, request: Request) -> dict[str, Any]:
    """Body: {"data": {...}}; the object replaces the volume's contents marker."""
    data = opt_obj(await read_object(request), "data")
    if data is None:
        raise bad_request("data is required: a JSON object")
    introspect.set_volume_data(get_core(request), app_name, volume_id, data)
    return {"ok": True}


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    get_core(request).reset()
    return {"ok": True}
