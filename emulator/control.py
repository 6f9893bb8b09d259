"""The control surface under /__emulator/: the routes every stand-in has (standin.control: health, state,
billable, requests, faults, settings, reset) and the emulator's own switches. No auth, no latency, no faults,
no rate limits, and not recorded in the request log: it is the test harness, not the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from emulator import introspect
from emulator.core import Core, get_core
from emulator.errors import bad_request
from standin.control import control_router
from standin.jsonbody import opt_obj, opt_str, read_object, req_str

PREFIX = "/__emulator"
router = control_router(
    PREFIX,
    service="Fly Machines API emulator",
    core_type=Core,
    state=introspect.state_snapshot,
    billable=introspect.billable,
    apply_settings=introspect.apply_settings,
)


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
