"""Apps: create, get, list by org, delete (which takes machines, volumes, IPs and secrets with it).

Create body: Fly's OpenAPI spec and the Go client (flaps CreateAppRequest) send `name`; the Machines API
docs and the older spec show `app_name`. Both are accepted; giving both with different values is a 400.
Names are one global namespace: a name held by any app, in any org, is 422 with status `name_taken` and
the message "Name has already been taken" (fly-go flaps_error.go reads both).
"""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from emulator import ids, lifecycle
from emulator.core import Core, get_core
from emulator.errors import FlyError, bad_request, precondition
from emulator.query import query_bool
from emulator.state import App
from standin.jsonbody import opt_bool, opt_str, read_object

router = APIRouter()

# Lowercase letters, digits and dashes; a DNS label (the app answers at <name>.fly.dev).
APP_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
ORG_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def render_app(core: Core, app: App) -> dict[str, Any]:
    machines = [m for m in core.store.machines.values() if m.app == app.name and m.state != "destroyed"]
    volumes = [v for v in core.store.volumes.values() if v.app == app.name]
    return {
        "id": app.id,
        "name": app.name,
        "internal_numeric_id": app.internal_numeric_id,
        "network": app.network,
        "status": "deployed" if machines else "pending",
        "machine_count": len(machines),
        "volume_count": len(volumes),
        "organization": {"name": core.store.orgs.get(app.org, app.org), "slug": app.org},
    }


@router.get("/v1/apps")
async def list_apps(request: Request) -> dict[str, Any]:
    core = get_core(request)
    org = request.query_params.get("org_slug")
    if not org:
        raise bad_request("org_slug is required")
    with core.lock:
        if org not in core.store.orgs:
            raise FlyError(404, "organization not found")
        core.advance_all()
        apps = [render_app(core, a) for a in core.store.apps.values() if a.org == org]
    return {"total_apps": len(apps), "apps": apps}


@router.post("/v1/apps")
async def create_app(request: Request) -> JSONResponse:
    core = get_core(request)
    body = await read_object(request)
    name = opt_str(body, "name")
    legacy = opt_str(body, "app_name")
    if name and legacy and name != legacy:
        raise bad_request("name and app_name disagree; send one of them")
    name = name or legacy
    org = opt_str(body, "org_slug")
    network = opt_str(body, "network") or "default"
    opt_bool(body, "enable_subdomains")
    if not name:
        raise FlyError(422, "Validation failed: Name can't be blank")
    if not APP_NAME.fullmatch(name):
        raise FlyError(422, "Validation failed: Name may only contain numbers, lowercase letters and dashes")
    if not org:
        raise bad_request("org_slug is required")
    if not ORG_SLUG.fullmatch(org):
        raise bad_request(f"invalid org_slug {org!r}")
    with core.lock:
        if org not in core.store.orgs:
            raise FlyError(404, "organization not found")
        if name in core.store.apps or name in core.store.reserved_names:
            raise FlyError(422, "Name has already been taken", code="name_taken")
        core.store.next_numeric_id += 1
        app = App(name, ids.app_id(), org, network, time.time(), core.store.next_numeric_id)
        core.store.apps[name] = app
        core.store.secrets_version[name] = 0
        return JSONResponse(render_app(core, app), status_code=201)


@router.get("/v1/apps/{app_name}")
async def get_app(app_name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        core.advance_all()
        return render_app(core, core.app(app_name))


@router.delete("/v1/apps/{app_name}")
async def delete_app(app_name: str, request: Request) -> Response:
    """202 with no body (Fly docs). "Machines should be stopped before attempting deletion. Append
    ?force=true to stop and delete immediately": without force, a running machine is a 412."""
    core = get_core(request)
    force = query_bool(request.query_params.get("force"), "force")
    with core.lock:
        app = core.app(app_name)
        core.advance_all()
        machines = [m for m in core.store.machines.values() if m.app == app.name]
        running = [m.id for m in machines if m.state not in lifecycle.AT_REST]
        if running and not force:
            raise precondition(
                f"app {app.name} has machines that are not stopped ({', '.join(running)}); "
                "stop them first or pass force=true"
            )
        delete_app_resources(core, app.name)
    return Response(status_code=202)


def delete_app_resources(core: Core, app_name: str) -> None:
    store = core.store
    for machine_id in [m.id for m in store.machines.values() if m.app == app_name]:
        del store.machines[machine_id]
    for volume_id in [v.id for v in store.volumes.values() if v.app == app_name]:
        del store.volumes[volume_id]
    for snapshot_id in [s.id for s in store.snapshots.values() if s.app == app_name]:
        del store.snapshots[snapshot_id]
    store.ips = [ip for ip in store.ips if ip.app != app_name]
    store.secrets.pop(app_name, None)
    store.secrets_version.pop(app_name, None)
    store.apps.pop(app_name, None)
