"""Machine leases: an exclusive lock on changing a machine, proven by a nonce.

A held lease makes every mutation need `fly-machine-lease-nonce: <nonce>` (Fly docs, "Update a Machine";
409 otherwise). Responses are `{status, data: {nonce, expires_at, owner, description, version}}`, which is
what fly-go's MachineLease decodes and the docs show. The TTL comes from `?ttl=` (fly-go) or the body's
`ttl` (docs); presenting the held nonce refreshes the lease.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from emulator import ids
from emulator.core import get_core
from emulator.errors import FlyError, bad_request, not_found
from emulator.machine_views import ONE, get_machine, not_gone
from emulator.query import query_int
from emulator.state import Lease, Machine
from standin.jsonbody import JSON, opt_int, opt_str, read_object

router = APIRouter()

NONCE_HEADER = "fly-machine-lease-nonce"
LEASE_OWNER = "emulator-user@fly.invalid"
DEFAULT_LEASE_TTL = 30


def active_lease(machine: Machine) -> Lease | None:
    if machine.lease is not None and machine.lease.expires_at <= time.time():
        machine.lease = None
    return machine.lease


def check_lease(machine: Machine, request: Request) -> None:
    """A held lease makes every mutation need its nonce (Fly docs, "Update a Machine")."""
    lease = active_lease(machine)
    if lease is None:
        return
    if request.headers.get(NONCE_HEADER) != lease.nonce:
        raise FlyError(
            409,
            f"machine {machine.id} is leased: lease currently held by {lease.owner}, expires at "
            f"{ids.iso(lease.expires_at)}; send its nonce in the {NONCE_HEADER} header",
        )


def grant_lease(machine: Machine, ttl: int, description: str = "") -> Lease:
    machine.lease = Lease(ids.lease_nonce(), LEASE_OWNER, description, time.time() + ttl, machine.instance_id)
    return machine.lease


def render_lease(lease: Lease) -> JSON:
    return {
        "status": "success",
        "data": {
            "nonce": lease.nonce,
            "expires_at": int(lease.expires_at),
            "owner": lease.owner,
            "description": lease.description,
            "version": lease.version,
        },
    }


@router.post(ONE + "/lease")
async def acquire_lease(app_name: str, machine_id: str, request: Request) -> Response:
    """TTL from `?ttl=` (fly-go) or the body's `ttl` (docs). Sending the held nonce refreshes the lease."""
    core = get_core(request)
    body = await read_object(request, required=False)
    ttl = query_int(request.query_params.get("ttl"), "ttl")
    ttl = opt_int(body, "ttl") if ttl is None else ttl
    description = opt_str(body, "description") or ""
    ttl = DEFAULT_LEASE_TTL if ttl is None else ttl
    if ttl < 1:
        raise bad_request("ttl must be at least 1 second")
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        not_gone(machine, "lease")
        lease = active_lease(machine)
        presented = request.headers.get(NONCE_HEADER)
        if lease is not None:
            if presented != lease.nonce:
                raise FlyError(
                    409, f"lease currently held by {lease.owner}, expires at {ids.iso(lease.expires_at)}"
                )
            lease.expires_at = time.time() + ttl
        else:
            lease = grant_lease(machine, ttl, description)
        return JSONResponse(render_lease(lease), status_code=201)


@router.get(ONE + "/lease")
async def show_lease(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        lease = active_lease(machine)
        if lease is None:
            raise not_found(f"no active lease on machine {machine.id}")
        return render_lease(lease)


@router.delete(ONE + "/lease")
async def release_lease(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    presented = request.headers.get(NONCE_HEADER)
    if not presented:
        raise bad_request(f"the {NONCE_HEADER} header is required to release a lease")
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        lease = active_lease(machine)
        if lease is None:
            raise not_found(f"no active lease on machine {machine.id}")
        if presented != lease.nonce:
            raise FlyError(409, f"lease currently held by {lease.owner}; the nonce does not match")
        machine.lease = None
        return {}
