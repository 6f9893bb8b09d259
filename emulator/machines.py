"""Machines: create, list, get, update, start, stop, suspend, restart, delete, cordon, metadata, versions.

Shapes and codes follow the Machines API docs and OpenAPI spec (create and update answer the Machine with
state `created` / `replacing`; start answers `{previous_state, migrated, new_host}`; stop and delete `{ok}`).
An update replaces the whole config (no partial updates), gets a new instance_id, and reboots a running
machine; a stopped one boots unless `skip_launch` (Fly docs, "Update a Machine"). Leases live in leases.py,
wait in wait.py. Choices where Fly's answer is undocumented are listed in the package docstring.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response

from emulator import ids, lifecycle, machine_config
from emulator.core import Core, get_core
from emulator.errors import bad_request, not_found, precondition
from emulator.leases import active_lease, check_lease, grant_lease, render_lease
from emulator.machine_views import BASE, ONE, get_machine, not_gone, render_machine
from emulator.query import query_bool, query_int
from emulator.regions import is_region
from emulator.state import Machine
from emulator.volumes import require_volume_for_mount
from standin.jsonbody import JSON, opt_bool, opt_int, opt_str, read_object


def machine_to_change(core: Core, app_name: str, machine_id: str, request: Request, action: str) -> Machine:
    """The machine a mutating call targets: it must still exist, and a held lease needs its nonce."""
    machine = get_machine(core, app_name, machine_id)
    not_gone(machine, action)
    check_lease(machine, request)
    return machine


router = APIRouter()


def _fails(core: Core, config: JSON) -> bool:
    return str(config.get("image", "")) in core.store.failing_images


def _secrets_version(core: Core, app_name: str, body: JSON) -> tuple[int | None, int | None]:
    """(min_secrets_version asked for, secrets version the machine gets)."""
    minimum = opt_int(body, "min_secrets_version")
    if opt_bool(body, "skip_secrets"):
        return minimum, None
    current = core.store.secrets_version.get(app_name, 0)
    if minimum is not None and minimum > current:
        raise precondition(
            f"secrets version {minimum} is not available yet (the app is at version {current})"
        )
    return minimum, current


def _lease_ttl(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise bad_request("lease_ttl must be at least 1 second")
    return value


def _attach(core: Core, machine: Machine, config: JSON) -> None:
    """Bind the mounted volume (if any) to this machine and release one it no longer mounts."""
    wanted = {m["volume"] for m in config.get("mounts", [])}
    for volume in core.store.volumes.values():
        if volume.attached_machine_id == machine.id and volume.id not in wanted:
            volume.attached_machine_id = None
    for volume_id in wanted:
        core.store.volumes[volume_id].attached_machine_id = machine.id


# --- list / create / get ---------------------------------------------------------------------------


@router.get(BASE)
async def list_machines(app_name: str, request: Request) -> list[JSON]:
    core = get_core(request)
    params = request.query_params
    include_deleted = query_bool(params.get("include_deleted"), "include_deleted")
    summary = query_bool(params.get("summary"), "summary")
    region = params.get("region")
    states = {s for s in (params.get("state") or "").split(",") if s}
    metadata = {k[len("metadata.") :]: v for k, v in params.items() if k.startswith("metadata.")}
    with core.lock:
        core.app(app_name)
        out = []
        for machine in core.store.machines.values():
            if machine.app != app_name:
                continue
            lifecycle.advance(machine)
            if machine.state == "destroyed" and not include_deleted:
                continue
            if region and machine.region != region:
                continue
            if states and machine.state not in states:
                continue
            md = machine.config.get("metadata") or {}
            if any(md.get(k) != v for k, v in metadata.items()):
                continue
            out.append(render_machine(core, machine, summary=summary))
        return out


@router.post(BASE)
async def create_machine(app_name: str, request: Request) -> JSON:
    core = get_core(request)
    body = await read_object(request)
    region = opt_str(body, "region")
    name = opt_str(body, "name") or ids.machine_name()
    skip_launch = bool(opt_bool(body, "skip_launch"))
    opt_bool(body, "skip_service_registration")
    opt_bool(body, "lsvd")
    lease_ttl = _lease_ttl(opt_int(body, "lease_ttl"))
    if not region:
        # Fly would pick the region nearest the caller; the emulator cannot know it, so it refuses to guess.
        raise bad_request("region is required by the emulator (Fly would choose the region nearest to you)")
    if not is_region(region):
        raise bad_request(f"unknown region {region!r}")
    with core.lock:
        core.app(app_name)
        config = machine_config.normalize(
            body.get("config"), gpus_offered=core.settings.gpus_offered, region=region
        )
        machine_id = ids.machine_id()
        for mount in config.get("mounts", []):
            require_volume_for_mount(core, app_name, mount["volume"], region, machine_id)
        minimum, applied = _secrets_version(core, app_name, body)
        now = time.time()
        machine = Machine(
            id=machine_id,
            app=app_name,
            name=name,
            region=region,
            state="created",
            instance_id=ids.ulid(),
            config=config,
            created_at=now,
            updated_at=now,
            private_ip=ids.private_ip(),
            image_ref=machine_config.image_ref(config["image"]),
            min_secrets_version=minimum,
            secrets_version=applied,
        )
        machine.versions.append((machine.instance_id, config))
        core.store.machines[machine.id] = machine
        _attach(core, machine, config)
        if skip_launch:
            lifecycle.create_stopped(machine)
        else:
            lifecycle.launch(machine, core.timing(), _fails(core, config))
        out = render_machine(core, machine)
        if lease_ttl:
            out["nonce"] = grant_lease(machine, lease_ttl).nonce
        return out


@router.get(ONE)
async def show_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    with core.lock:
        return render_machine(core, get_machine(core, app_name, machine_id))


# --- update / delete -------------------------------------------------------------------------------


@router.post(ONE)
async def update_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    """Replaces the whole config (no partial updates); a running machine reboots into it, a stopped one
    boots unless `skip_launch` (Fly docs, "Update a Machine"). Each update is a new instance_id."""
    core = get_core(request)
    body = await read_object(request)
    skip_launch = bool(opt_bool(body, "skip_launch"))
    current_version = opt_str(body, "current_version")
    region = opt_str(body, "region")
    name = opt_str(body, "name")
    opt_bool(body, "skip_service_registration")
    lease_ttl = _lease_ttl(opt_int(body, "lease_ttl"))
    if body.get("config") is None:
        raise bad_request("config is required: an update replaces the whole machine config")
    with core.lock:
        machine = machine_to_change(core, app_name, machine_id, request, "update")
        if current_version and current_version != machine.instance_id:
            raise precondition(
                f"machine {machine.id} is at version {machine.instance_id}, not {current_version}"
            )
        if region and region != machine.region:
            raise bad_request("region cannot be changed by an update; create a new machine instead")
        if name and name != machine.name:
            raise bad_request("name cannot be changed by an update")
        config = machine_config.normalize(
            body["config"], gpus_offered=core.settings.gpus_offered, region=machine.region
        )
        for mount in config.get("mounts", []):
            require_volume_for_mount(core, app_name, mount["volume"], machine.region, machine.id)
        minimum, applied = _secrets_version(core, app_name, body)

        launch_after = not skip_launch
        machine.config = config
        machine.instance_id = ids.ulid()
        machine.versions.append((machine.instance_id, config))
        machine.config_version += 1
        machine.updated_at = time.time()
        machine.image_ref = machine_config.image_ref(config["image"])
        machine.min_secrets_version, machine.secrets_version = minimum, applied
        _attach(core, machine, config)
        lifecycle.replace(machine, core.timing(), _fails(core, config), launch_after=launch_after)
        out = render_machine(core, machine)
        if lease_ttl:
            out["nonce"] = grant_lease(machine, lease_ttl).nonce
        return out


@router.delete(ONE)
async def delete_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    """Without force a machine must be at rest; flyctl sends `kill=`, the docs and spec `force=`."""
    core = get_core(request)
    params = request.query_params
    force = query_bool(params.get("force"), "force") or query_bool(params.get("kill"), "kill")
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        if machine.state == "destroyed":
            raise not_found("machine not found")
        check_lease(machine, request)
        if machine.state == "destroying":
            return {"ok": True}
        if machine.state not in lifecycle.AT_REST and not force:
            raise precondition(
                f"unable to destroy machine {machine.id}: it is {machine.state}, not stopped; "
                "stop it first or pass force=true"
            )
        lifecycle.destroy(machine, core.timing())
        return {"ok": True}


# --- state changes ---------------------------------------------------------------------------------


@router.post(ONE + "/start")
async def start_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    with core.lock:
        machine = machine_to_change(core, app_name, machine_id, request, "start")
        previous = machine.state
        if previous not in lifecycle.STARTABLE:
            raise precondition(f"machine {machine.id} is {previous}; only a stopped machine can be started")
        lifecycle.start(machine, core.timing(), _fails(core, machine.config))
        return {"previous_state": previous, "migrated": False, "new_host": ""}


@router.post(ONE + "/stop")
async def stop_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    body = await read_object(request, required=False)
    signal = opt_str(body, "signal")
    if signal is not None and signal not in machine_config.SIGNALS:
        raise bad_request(f"invalid signal {signal!r}")
    machine_config.check_duration(body, "timeout", "")
    with core.lock:
        machine = machine_to_change(core, app_name, machine_id, request, "stop")
        # Stopping a machine that is already at rest (or on its way there) changes nothing.
        if machine.state in lifecycle.RUNNING:
            lifecycle.stop(machine, core.timing())
        return {"ok": True}


@router.post(ONE + "/suspend")
async def suspend_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    with core.lock:
        machine = machine_to_change(core, app_name, machine_id, request, "suspend")
        if machine.has_gpu:
            raise bad_request("machines with GPUs cannot be suspended; stop them instead")
        if machine.state != "started":
            raise precondition(
                f"machine {machine.id} is {machine.state}; only a started machine can be suspended"
            )
        lifecycle.suspend(machine, core.timing())
        return {"ok": True}


@router.post(ONE + "/restart")
async def restart_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    with core.lock:
        machine = machine_to_change(core, app_name, machine_id, request, "restart")
        if machine.state != "started":
            raise precondition(
                f"machine {machine.id} is {machine.state}; only a started machine can be restarted"
            )
        lifecycle.restart(machine, core.timing(), _fails(core, machine.config))
        return {"ok": True}


@router.post(ONE + "/cordon")
async def cordon_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    return await _set_cordon(app_name, machine_id, request, True)


@router.post(ONE + "/uncordon")
async def uncordon_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    return await _set_cordon(app_name, machine_id, request, False)


async def _set_cordon(app_name: str, machine_id: str, request: Request, cordoned: bool) -> JSON:
    core = get_core(request)
    with core.lock:
        machine = machine_to_change(core, app_name, machine_id, request, "cordon" if cordoned else "uncordon")
        machine.cordoned = cordoned
        return {"ok": True}


# --- history and metadata --------------------------------------------------------------------------


@router.get(ONE + "/versions")
async def list_versions(app_name: str, machine_id: str, request: Request) -> list[JSON]:
    core = get_core(request)
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        return [
            {"version": version, "user_config": machine_config.render(config)}
            for version, config in reversed(machine.versions)
        ]


@router.get(ONE + "/events")
async def list_events(app_name: str, machine_id: str, request: Request) -> list[JSON]:
    core = get_core(request)
    limit = query_int(request.query_params.get("limit"), "limit") or 20
    if not 1 <= limit <= 50:
        raise bad_request("limit must be between 1 and 50")
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        return render_machine(core, machine)["events"][:limit]  # type: ignore[no-any-return]


@router.get(ONE + "/metadata")
async def show_metadata(app_name: str, machine_id: str, request: Request) -> dict[str, str]:
    core = get_core(request)
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        return dict(machine.config.get("metadata") or {})


@router.get(ONE + "/metadata/{key}")
async def show_metadata_key(app_name: str, machine_id: str, key: str, request: Request) -> JSON:
    core = get_core(request)
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        metadata = machine.config.get("metadata") or {}
        if key not in metadata:
            raise not_found(f"metadata key {key!r} not found")
        return {"value": metadata[key]}


@router.post(ONE + "/metadata/{key}")
async def set_metadata_key(app_name: str, machine_id: str, key: str, request: Request) -> Response:
    core = get_core(request)
    body = await read_object(request)
    value = opt_str(body, "value")
    if value is None:
        raise bad_request("value is required")
    with core.lock:
        machine = machine_to_change(core, app_name, machine_id, request, "update metadata of")
        # A new dict, so the version history keeps the config each version was created with.
        machine.config = {
            **machine.config,
            "metadata": {**(machine.config.get("metadata") or {}), key: value},
        }
    return Response(status_code=204)


@router.delete(ONE + "/metadata/{key}")
async def delete_metadata_key(app_name: str, machine_id: str, key: str, request: Request) -> Response:
    core = get_core(request)
    with core.lock:
        machine = machine_to_change(core, app_name, machine_id, request, "update metadata of")
        metadata = {k: v for k, v in (machine.config.get("metadata") or {}).items() if k != key}
        machine.config = {**machine.config, "metadata": metadata}
    return Response(status_code=204)


def machine_snapshot(core: Core, machine: Machine) -> dict[str, Any]:
    """Everything a test may want to assert about a machine, beyond what the API shows."""
    out = render_machine(core, machine)
    lease = active_lease(machine)
    out.update(
        app=machine.app,
        config_version=machine.config_version,
        min_secrets_version=machine.min_secrets_version,
        secrets_version=machine.secrets_version,
        lease=render_lease(lease)["data"] if lease else None,
    )
    return out
