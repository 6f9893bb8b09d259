"""Machines: create, list, get, update, start, stop, suspend, restart, delete, wait, leases, metadata.

Shapes and codes follow the Machines API docs and OpenAPI spec (create/update answer the Machine, wait
answers `{ok, state, version, event_id}` or 408, leases answer `{status, data}` as fly-go's MachineLease
decodes them). Choices where Fly's answer is undocumented are listed in the package docstring.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from emulator import ids, lifecycle, machine_config
from emulator.core import Core, get_core
from emulator.errors import FlyError, bad_request, not_found, precondition
from emulator.jsonbody import (
    JSON,
    opt_bool,
    opt_int,
    opt_str,
    query_bool,
    query_int,
    read_object,
)
from emulator.regions import is_region
from emulator.state import Lease, Machine
from emulator.volumes import require_volume_for_mount

router = APIRouter()

NONCE_HEADER = "fly-machine-lease-nonce"
BASE = "/v1/apps/{app_name}/machines"
ONE = BASE + "/{machine_id}"
LEASE_OWNER = "emulator-user@fly.invalid"
DEFAULT_LEASE_TTL = 30
WAIT_STATES = frozenset({"started", "stopped", "suspended", "destroyed", "failed", "settled"})
WAIT_POLL_SECONDS = 0.02


# --- shared helpers ------------------------------------------------------------------------------


def get_machine(core: Core, app_name: str, machine_id: str) -> Machine:
    core.app(app_name)
    machine = core.store.machines.get(machine_id)
    if machine is None or machine.app != app_name:
        raise not_found("machine not found")
    lifecycle.advance(machine)
    return machine


def _render_config(core: Core, machine: Machine) -> JSON:
    config = machine_config.render(machine.config)
    for mount in config.get("mounts", []):
        volume = core.store.volumes.get(mount.get("volume", ""))
        if volume is not None:
            mount.update(name=volume.name, size_gb=volume.size_gb, encrypted=volume.encrypted)
    return config


def render_machine(core: Core, machine: Machine, *, summary: bool = False) -> JSON:
    out: JSON = {
        "id": machine.id,
        "name": machine.name,
        "state": machine.state,
        "region": machine.region,
        "instance_id": machine.instance_id,
        "version": machine.instance_id,
        "private_ip": machine.private_ip,
        "image_ref": dict(machine.image_ref),
        "created_at": ids.iso(machine.created_at),
        "updated_at": ids.iso(machine.updated_at),
        "host_status": "ok",
        "cordoned": machine.cordoned,
    }
    if not summary:
        out["config"] = _render_config(core, machine)
        out["checks"] = []
        out["events"] = [
            {"id": e.id, "type": e.type, "status": e.status, "source": e.source, "timestamp": e.timestamp_ms}
            for e in reversed(machine.events[-20:])
        ]
    return out


def _active_lease(machine: Machine) -> Lease | None:
    if machine.lease is not None and machine.lease.expires_at <= time.time():
        machine.lease = None
    return machine.lease


def _check_lease(machine: Machine, request: Request) -> None:
    """A held lease makes every mutation need its nonce (Fly docs, "Update a Machine")."""
    lease = _active_lease(machine)
    if lease is None:
        return
    if request.headers.get(NONCE_HEADER) != lease.nonce:
        raise FlyError(
            409,
            f"machine {machine.id} is leased: lease currently held by {lease.owner}, expires at "
            f"{ids.iso(lease.expires_at)}; send its nonce in the {NONCE_HEADER} header",
        )


def _not_gone(machine: Machine, action: str) -> None:
    if machine.state in ("destroying", "destroyed"):
        raise precondition(f"unable to {action} machine {machine.id}: it is {machine.state}")


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


def _grant_lease(machine: Machine, ttl: int, description: str = "") -> Lease:
    machine.lease = Lease(ids.lease_nonce(), LEASE_OWNER, description, time.time() + ttl, machine.instance_id)
    return machine.lease


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
            out["nonce"] = _grant_lease(machine, lease_ttl).nonce
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
        machine = get_machine(core, app_name, machine_id)
        _not_gone(machine, "update")
        _check_lease(machine, request)
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
            out["nonce"] = _grant_lease(machine, lease_ttl).nonce
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
        _check_lease(machine, request)
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
        machine = get_machine(core, app_name, machine_id)
        _not_gone(machine, "start")
        _check_lease(machine, request)
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
        machine = get_machine(core, app_name, machine_id)
        _not_gone(machine, "stop")
        _check_lease(machine, request)
        # Stopping a machine that is already at rest (or on its way there) changes nothing.
        if machine.state in lifecycle.RUNNING:
            lifecycle.stop(machine, core.timing())
        return {"ok": True}


@router.post(ONE + "/suspend")
async def suspend_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        _not_gone(machine, "suspend")
        _check_lease(machine, request)
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
        machine = get_machine(core, app_name, machine_id)
        _not_gone(machine, "restart")
        _check_lease(machine, request)
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
        machine = get_machine(core, app_name, machine_id)
        _not_gone(machine, "cordon" if cordoned else "uncordon")
        _check_lease(machine, request)
        machine.cordoned = cordoned
        return {"ok": True}


# --- wait ------------------------------------------------------------------------------------------


def _wait_targets(request: Request) -> set[str]:
    raw = request.query_params.getlist("state") or ["started"]
    targets = {s.strip() for item in raw for s in item.split(",") if s.strip()}
    unknown = targets - WAIT_STATES
    if unknown or not targets:
        raise bad_request(
            f"invalid_argument: state {', '.join(sorted(unknown)) or '(empty)'} is not one of "
            f"{', '.join(sorted(WAIT_STATES))}"
        )
    if "settled" in targets:
        targets = (targets - {"settled"}) | set(lifecycle.SETTLED)
    return targets


@router.get(ONE + "/wait")
async def wait_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    """Long-poll until the machine is in one of the states (repeated or comma-separated), for 1-60 s
    (default 60); 408 when the time runs out (OpenAPI spec "Wait for State", flaps_machines_wait.go)."""
    core = get_core(request)
    params = request.query_params
    targets = _wait_targets(request)
    timeout = query_int(params.get("timeout"), "timeout")
    timeout = 60 if timeout is None else timeout
    if not 1 <= timeout <= 60:
        raise bad_request(f"invalid_argument: timeout {timeout}s is out of range [1s, 1m0s]")
    version = params.get("version") or params.get("instance_id")
    from_event = params.get("from_event_id")
    deadline = time.monotonic() + timeout
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        if version and version != machine.instance_id:
            if version in {v for v, _ in machine.versions}:
                raise precondition(
                    f"machine {machine.id} is now at version {machine.instance_id}, not {version}"
                )
            raise bad_request(f"invalid_argument: unknown version {version!r}")
        if from_event and from_event not in {e.id for e in machine.events}:
            raise bad_request(f"invalid_argument: unknown event {from_event!r}")
    while True:
        with core.lock:
            machine = get_machine(core, app_name, machine_id)
            if _reached(machine, targets, from_event):
                return {
                    "ok": True,
                    "state": machine.state,
                    "version": machine.instance_id,
                    "event_id": machine.events[-1].id if machine.events else "",
                }
            due = lifecycle.next_due(machine)
        now = time.monotonic()
        if now >= deadline:
            raise FlyError(
                408,
                f"deadline_exceeded: machine {machine_id} did not reach state {'/'.join(sorted(targets))} "
                f"within {timeout}s (it is {machine.state})",
            )
        pause = WAIT_POLL_SECONDS if due is None else max(0.001, min(WAIT_POLL_SECONDS, due - now))
        await asyncio.sleep(min(pause, deadline - now))


def _reached(machine: Machine, targets: set[str], from_event: str | None) -> bool:
    if machine.state not in targets:
        return False
    if from_event is None:
        return True
    seen = False
    for event in machine.events:
        if seen and event.status in targets:
            return True
        seen = seen or event.id == from_event
    return False


# --- leases ----------------------------------------------------------------------------------------


def _render_lease(lease: Lease) -> JSON:
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
        _not_gone(machine, "lease")
        lease = _active_lease(machine)
        presented = request.headers.get(NONCE_HEADER)
        if lease is not None:
            if presented != lease.nonce:
                raise FlyError(
                    409, f"lease currently held by {lease.owner}, expires at {ids.iso(lease.expires_at)}"
                )
            lease.expires_at = time.time() + ttl
        else:
            lease = _grant_lease(machine, ttl, description)
        return JSONResponse(_render_lease(lease), status_code=201)


@router.get(ONE + "/lease")
async def show_lease(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        lease = _active_lease(machine)
        if lease is None:
            raise not_found(f"no active lease on machine {machine.id}")
        return _render_lease(lease)


@router.delete(ONE + "/lease")
async def release_lease(app_name: str, machine_id: str, request: Request) -> JSON:
    core = get_core(request)
    presented = request.headers.get(NONCE_HEADER)
    if not presented:
        raise bad_request(f"the {NONCE_HEADER} header is required to release a lease")
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        lease = _active_lease(machine)
        if lease is None:
            raise not_found(f"no active lease on machine {machine.id}")
        if presented != lease.nonce:
            raise FlyError(409, f"lease currently held by {lease.owner}; the nonce does not match")
        machine.lease = None
        return {}


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
        machine = get_machine(core, app_name, machine_id)
        _not_gone(machine, "update metadata of")
        _check_lease(machine, request)
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
        machine = get_machine(core, app_name, machine_id)
        _not_gone(machine, "update metadata of")
        _check_lease(machine, request)
        metadata = {k: v for k, v in (machine.config.get("metadata") or {}).items() if k != key}
        machine.config = {**machine.config, "metadata": metadata}
    return Response(status_code=204)


def machine_snapshot(core: Core, machine: Machine) -> dict[str, Any]:
    """Everything a test may want to assert about a machine, beyond what the API shows."""
    out = render_machine(core, machine)
    lease = _active_lease(machine)
    out.update(
        app=machine.app,
        config_version=machine.config_version,
        min_secrets_version=machine.min_secrets_version,
        secrets_version=machine.secrets_version,
        lease=_render_lease(lease)["data"] if lease else None,
    )
    return out
