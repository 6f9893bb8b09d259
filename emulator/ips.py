"""IP assignments: list, assign (`v6`, `shared_v4`, dedicated `v4`), release.

Shapes from the OpenAPI spec (listIPAssignmentsResponse, IPAssignment, assignIPRequest; DELETE answers
204) and fly-go flaps_ip_assignments.go. Addresses come from public space: v6 under 2a09:8280:1::/48,
dedicated v4 from 137.66.0.0/17, and one fixed shared v4 for every app. Flycast (`private_v6`) and
egress types are not modelled and are refused.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from fastapi import APIRouter, Request, Response

from emulator import ids
from emulator.core import get_core
from emulator.errors import FlyError, bad_request, not_found
from emulator.regions import is_region
from emulator.state import IPAssignment
from standin.jsonbody import opt_str, read_object

router = APIRouter()

MODELLED_TYPES = ("v6", "shared_v4", "v4")
KNOWN_TYPES = (*MODELLED_TYPES, "private_v6", "egress_v4", "egress_v6", "egress_pair")


def render_ip(ip: IPAssignment) -> dict[str, Any]:
    return {
        "ip": ip.ip,
        "region": ip.region,
        "service_name": ip.service_name,
        "shared": ip.shared,
        "created_at": ids.iso(ip.created_at),
    }


@router.get("/v1/apps/{app_name}/ip_assignments")
async def list_ips(app_name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        core.app(app_name)
        return {"ips": [render_ip(ip) for ip in core.store.ips if ip.app == app_name]}


@router.post("/v1/apps/{app_name}/ip_assignments")
async def assign_ip(app_name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    kind = opt_str(body, "type")
    region = opt_str(body, "region") or "global"
    service_name = opt_str(body, "service_name") or ""
    opt_str(body, "org_slug")
    opt_str(body, "network")
    if not kind:
        raise bad_request("type is required")
    if kind not in KNOWN_TYPES:
        raise bad_request(f"invalid type {kind!r}: expected one of {', '.join(KNOWN_TYPES)}")
    if kind not in MODELLED_TYPES:
        raise bad_request(f"IP type {kind!r} is not supported by the emulator")
    if region != "global" and not is_region(region):
        raise bad_request(f"unknown region {region!r}")
    with core.lock:
        core.app(app_name)
        mine = [ip for ip in core.store.ips if ip.app == app_name]
        if kind == "shared_v4":
            if any(ip.type == "shared_v4" for ip in mine):
                raise FlyError(422, "app already has a shared IPv4 address")
            address = ids.SHARED_IPV4
        else:
            taken = {ip.ip for ip in core.store.ips}
            fresh = ids.public_ipv6 if kind == "v6" else ids.dedicated_ipv4
            # A collision is vanishingly rare; a few draws keep addresses unique without an unbounded loop.
            drawn = next((a for a in (fresh() for _ in range(16)) if a not in taken), None)
            if drawn is None:
                raise FlyError(503, "no free address; try again")
            address = drawn
        ip = IPAssignment(address, app_name, kind, region, kind == "shared_v4", service_name, time.time())
        core.store.ips.append(ip)
        return render_ip(ip)


@router.delete("/v1/apps/{app_name}/ip_assignments/{ip}")
async def release_ip(app_name: str, ip: str, request: Request) -> Response:
    core = get_core(request)
    wanted = _canonical(ip)
    with core.lock:
        core.app(app_name)
        for assignment in core.store.ips:
            if assignment.app == app_name and assignment.ip == wanted:
                core.store.ips.remove(assignment)
                return Response(status_code=204)
    raise not_found(f"IP {ip} is not assigned to app {app_name}")


def _canonical(ip: str) -> str:
    """The address in the form it was handed out, so "2A09:8280:1:0::5" finds "2a09:8280:1::5"."""
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        raise bad_request(f"invalid IP address {ip!r}") from None


def ip_snapshot(ip: IPAssignment) -> dict[str, Any]:
    return {**render_ip(ip), "app": ip.app, "type": ip.type}
